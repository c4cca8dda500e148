#!/usr/bin/env bash
# Deploys with psql exactly as the SQL deployment guide's "Déploiement Rapide"
# shows it, twice, on a fresh database of a real server, and compares the
# guide's post-deployment validation queries with its expected results.
#   usage: scripts/check-guide-psql.sh [admin connection string]
# Default: the machine's server at 127.0.0.1:5432 as postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${1:-postgres://postgres@127.0.0.1:5432/postgres}
db="aegis_db_guide_$$"
url="${admin%/*}/$db"
export PGOPTIONS='--client-min-messages=warning'
fail() { echo "FAIL: $*" >&2; exit 1; }

psql "$admin" -qAtc "create database $db" >/dev/null
trap 'psql "$admin" -qAtc "drop database if exists $db with (force)" >/dev/null' EXIT

completes() { psql -d "$url" -qAtc "select count(*) from public.deployment_log where phase = '$1' and status = 'success'" 2>/dev/null || echo 0; }
for run in 1 2; do
  # Option 1 of the guide: core first, then Media Buying. Each file is one
  # transaction, so a failure changes nothing; ON_ERROR_STOP makes psql's exit
  # status say so (without it psql exits 0 and COMMIT quietly rolls back), and
  # each run must add its own completion rows to the log.
  psql -d "$url" -q -v ON_ERROR_STOP=1 -f database/deploy.sql >/dev/null || fail "deploy.sql, run $run"
  psql -d "$url" -q -v ON_ERROR_STOP=1 -f database/media_buying_deployment.sql >/dev/null || fail "media_buying_deployment.sql, run $run"
  # Then the app's numbered migrations, and the files of functions re-applied after them.
  for m in database/migrations/[0-9]*.sql database/functions/*.sql; do
    [ -e "$m" ] || continue
    psql -d "$url" -q -v ON_ERROR_STOP=1 -f "$m" >/dev/null || fail "$m, run $run"
  done
  [ "$(completes CORE_COMPLETE)" = "$run" ] || fail "run $run: CORE_COMPLETE logged $(completes CORE_COMPLETE) times"
  [ "$(completes MEDIA_COMPLETE)" = "$run" ] || fail "run $run: MEDIA_COMPLETE logged $(completes MEDIA_COMPLETE) times"
  echo "deploy run $run: ok"
done

tables=$(psql -d "$url" -At -c "
  SELECT tablename FROM pg_tables 
  WHERE schemaname = 'ads' ORDER BY tablename;")
expected_tables=$'ab_tests\nanomalies\nbaselines\nbudget_allocation\ncampaign_performance\nmetrics_daily\noptimization_recommendations\nperformance_benchmarks\nplatform_configs'
[ "$tables" = "$expected_tables" ] || fail "tables: got"$'\n'"$tables"
echo "1. tables: the guide's nine"

functions=$(psql -d "$url" -At -c "
  SELECT routine_name FROM information_schema.routines 
  WHERE routine_schema = 'ads' ORDER BY routine_name;")
expected_functions=$'analyze_campaign_performance\ncompute_baselines\ndetect_anomalies\ngenerate_recommendations'
[ "$functions" = "$expected_functions" ] || fail "functions: got"$'\n'"$functions"
echo "2. functions: the guide's four"

indexes=$(psql -d "$url" -At -c "
  SELECT indexname FROM pg_indexes 
  WHERE schemaname = 'ads' ORDER BY indexname;")
n=$(wc -l <<<"$indexes")
[ "$n" -ge 8 ] || fail "indexes: only $n"
for i in idx_metrics_daily_tenant_day idx_metrics_daily_platform idx_metrics_daily_lookup idx_campaign_perf_tenant \
         idx_campaign_perf_lookup idx_metrics_optimization idx_recommendations_action idx_anomalies_active; do
  grep -qx "$i" <<<"$indexes" || fail "index $i missing"
done
echo "3. indexes: $n, the guide's eight included"

log=$(psql -d "$url" -At -c "
  SELECT phase, status, message 
  FROM public.deployment_log 
  WHERE phase LIKE 'MEDIA%' OR phase LIKE '%BUDGET%';")
grep -q '^MEDIA_COMPLETE|success|' <<<"$log" || fail "deployment log has no MEDIA_COMPLETE success"
! grep -q '|error|' <<<"$log" || fail "deployment log has errors"
echo "4. deployment log: $(wc -l <<<"$log") MEDIA rows, none in error"

DATABASE_URL="$url" DATABASE_OWNER_URL="$url" npx tsx scripts/db.ts verify
echo "guide deployment with psql: all checks passed"
