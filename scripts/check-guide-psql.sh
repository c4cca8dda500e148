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

psql "$admin" -qAtc "create database $db" >/dev/null
trap 'psql "$admin" -qAtc "drop database if exists $db with (force)" >/dev/null' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
for run in 1 2; do
  # Option 1 of the guide: core first, then Media Buying. psql runs the files
  # as they are; each file is one transaction, so a failure changes nothing.
  psql -d "$url" -q -f database/deploy.sql >/dev/null
  psql -d "$url" -q -f database/media_buying_deployment.sql >/dev/null
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
