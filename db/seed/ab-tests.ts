// A/B tests: the catalogue's variants turned into totals, with the
// significance of a two-proportion z-test on conversions / clicks.

import { AB_TESTS, demoUuid, type DemoTenant } from './catalog';
import { formatDay } from './dates';
import type { CampaignLayout } from './layout';
import type { AbTestRow, VariantTotals } from './rows';
import { round2, twoProportionZTest } from './stats';

/** layouts: the tenant's campaigns in catalogue order; today: epoch day. */
export function generateAbTests(tenant: DemoTenant, layouts: readonly CampaignLayout[], today: number): AbTestRow[] {
  return AB_TESTS[tenant.vertical].map((t, k): AbTestRow => {
    const campaign = layouts[t.campaignIndex];
    if (!campaign) throw new Error(`A/B test '${t.name}': no campaign ${t.campaignIndex}`);
    const totals = (v: (typeof t)['a']): VariantTotals => {
      const conversions = Math.round(v.clicks * v.cvr);
      return {
        impressions: Math.round(v.clicks / v.ctr),
        clicks: v.clicks,
        conversions,
        spend: round2(v.clicks * v.cpc),
        conversion_value: round2(conversions * v.valuePerConversion),
      };
    };
    const a = totals(t.a);
    const b = totals(t.b);
    const test = twoProportionZTest(a.conversions, a.clicks, b.conversions, b.clicks);
    const significance = Math.round(test.significance * 1e5) / 1e5;
    let winner: AbTestRow['winner'] = null;
    if (t.status === 'completed') {
      winner = significance >= 0.95 ? (test.rateB > test.rateA ? 'B' : 'A') : 'none';
      if (winner !== t.expectWinner) throw new Error(`A/B test '${t.name}': computed winner ${winner}, catalogue says ${t.expectWinner}`);
    }
    return {
      id: demoUuid('ab_test', tenant.no, k + 1),
      testName: t.name,
      platform: campaign.def.platform,
      campaignId: campaign.id,
      testType: t.testType,
      hypothesis: t.hypothesis,
      primaryMetric: 'conversion_rate',
      variantA: t.variantA,
      variantB: t.variantB,
      performanceA: a,
      performanceB: b,
      winner,
      statisticalSignificance: significance,
      status: t.status,
      startDate: formatDay(today - t.startDaysAgo),
      endDate: t.endDaysAgo === null ? null : formatDay(today - t.endDaysAgo),
    };
  });
}
