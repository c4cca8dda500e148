// Pure generation of the demo data set: no database here. Given "today" it
// returns every row the seeder writes, the same rows on every run. Each
// campaign is laid out (layout.ts) and simulated with its planted situation,
// if any (series.ts), its noise kept as drawn, A/B test cells included; then
// come budgets and thresholds (budgets.ts), A/B tests read from their cells'
// rows or their entered totals (ab-tests.ts), the history of
// decided recommendations and the auto-apply settings (decisions.ts) and the
// shared benchmarks (benchmarks.ts).

import { DEMO_TENANTS, type DemoTenant } from './catalog';
import { HISTORY_DAYS, formatDay, parseDay, weekdayOf } from './dates';
import { generateAbTests } from './ab-tests';
import { generateBenchmarks } from './benchmarks';
import { generateBudgets } from './budgets';
import { DEMO_AUTO_APPLY, generateDecisions } from './decisions';
import { tenantLayouts } from './layout';
import type { DemoData, TenantData } from './rows';
import { buildModel, metricRows, simulate, sumSeries, type GeneratedCampaign } from './series';

function generateTenant(tenant: DemoTenant, firstDay: number, today: number): TenantData {
  const days = Array.from({ length: HISTORY_DAYS }, (_, i) => formatDay(firstDay + i));
  const weekdays = Array.from({ length: HISTORY_DAYS }, (_, i) => weekdayOf(firstDay + i));

  const generated: GeneratedCampaign[] = tenantLayouts(tenant).map((layout) => {
    const { adsets, cells } = simulate(buildModel(layout), weekdays);
    return { layout, adsetSeries: adsets, cellSeries: cells, campaignSeries: sumSeries([...adsets, ...cells]) };
  });

  const metrics = generated.flatMap((g) => metricRows(g, days));
  const { campaigns, budgets, platformConfigs } = generateBudgets(tenant, generated, days[0] ?? '');
  const abTests = generateAbTests(tenant, generated, days, today);
  const decisions = generateDecisions(tenant, generated, budgets, platformConfigs, firstDay);
  return { tenant, campaigns, metrics, budgets, platformConfigs, abTests, decisions, autoApply: DEMO_AUTO_APPLY[tenant.id] ?? null };
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
