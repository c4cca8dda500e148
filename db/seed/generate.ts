// Pure generation of the demo data set: no database here. Given "today" it
// returns every row the seeder writes, the same rows on every run. Each
// campaign is laid out (layout.ts), simulated (series.ts), made steady on its
// recent days (steadiness.ts) and its planted situation settled; then come
// budgets and thresholds (budgets.ts), A/B tests (ab-tests.ts) and the shared
// benchmarks (benchmarks.ts).

import { DEMO_TENANTS, type DemoTenant } from './catalog';
import { HISTORY_DAYS, formatDay, parseDay, weekdayOf } from './dates';
import { generateAbTests } from './ab-tests';
import { generateBenchmarks } from './benchmarks';
import { generateBudgets } from './budgets';
import { tenantLayouts } from './layout';
import type { DemoData, TenantData, Violation } from './rows';
import { buildModel, metricRows, settlePlanted, simulate, sumSeries, type GeneratedCampaign } from './series';
import { findViolations, steadyRecentDays } from './steadiness';

function generateTenant(tenant: DemoTenant, firstDay: number, today: number): TenantData {
  const days = Array.from({ length: HISTORY_DAYS }, (_, i) => formatDay(firstDay + i));
  const weekdays = Array.from({ length: HISTORY_DAYS }, (_, i) => weekdayOf(firstDay + i));

  const generated: GeneratedCampaign[] = [];
  const violations: Violation[] = [];
  for (const layout of tenantLayouts(tenant)) {
    const model = buildModel(layout);
    const adsetSeries = simulate(model, weekdays);
    const campaignSeries = sumSeries(adsetSeries);
    steadyRecentDays(model, weekdays, adsetSeries, campaignSeries, days);
    settlePlanted(model, weekdays, adsetSeries, campaignSeries);
    violations.push(...findViolations(layout, campaignSeries, adsetSeries, days));
    generated.push({ layout, adsetSeries, campaignSeries });
  }

  const metrics = generated.flatMap((g) => metricRows(g, days));
  const { campaigns, budgets, platformConfigs } = generateBudgets(tenant, generated, days[0] ?? '');
  const abTests = generateAbTests(tenant, generated.map((g) => g.layout), today);
  return { tenant, campaigns, metrics, budgets, platformConfigs, abTests, violations };
}

/** Every row of the demo, for `today` (YYYY-MM-DD, UTC): HISTORY_DAYS days ending the day before. */
export function generateDemoData(today: string): DemoData {
  const t = parseDay(today);
  const firstDay = t - HISTORY_DAYS;
  const firstDayText = formatDay(firstDay);
  return {
    today,
    firstDay: firstDayText,
    lastDay: formatDay(t - 1),
    tenants: DEMO_TENANTS.map((tenant) => generateTenant(tenant, firstDay, t)),
    benchmarks: generateBenchmarks(firstDayText),
  };
}
