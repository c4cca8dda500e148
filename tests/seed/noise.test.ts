// The noise of the demo data, measured from the generated rows by moments and
// held to the model the generator states (db/seed/series.ts): counts at least
// Poisson, conversions over-dispersed by a Gamma day rate, order values with
// a CV of about 0.8, and tails as wide as that model gives (nothing trimmed
// to keep a detector quiet). Pure: no database.
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../../db/seed/generate';
import { ADSET_RATE_CV, NOISE, ORDER_VALUE_CV } from '../../db/seed/series';
import { normalCdf } from '../../db/seed/stats';
import { conversionRateCv, conversionResiduals, dispersionIndex, entitySeries, orderValueCv, rawConversionRateCv, type EntitySeries } from './measure';

const TODAY = '2026-11-29';
const data = generateDemoData(TODAY);
const all: EntitySeries[] = data.tenants.flatMap(entitySeries);
const steady = all.filter((e) => e.layout.def.planted === undefined);
const campaigns = steady.filter((e) => e.level === 'campaign');
const adsets = steady.filter((e) => e.level === 'adset');
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('demo noise, measured from the rows', () => {
  it('3 to 5 ad sets per campaign, about 4 on average', () => {
    const perCampaign = data.tenants.flatMap((t) => t.campaigns.map((c) => c.adsetIds.length));
    expect(Math.min(...perCampaign)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...perCampaign)).toBeLessThanOrEqual(5);
    const mean = perCampaign.reduce((a, b) => a + b, 0) / perCampaign.length;
    expect(mean).toBeGreaterThan(3.5);
    expect(mean).toBeLessThan(4.5);
  });

  it('conversions given clicks: Poisson with a Gamma day rate of the stated CV (ad sets), 0.15-0.25 on campaigns', () => {
    const adsetCv = conversionRateCv(adsets);
    const campaignCv = conversionRateCv(campaigns);
    const raw = median(campaigns.map((e) => rawConversionRateCv(e)));
    console.info(
      `conversion-rate CV beyond Poisson: ad sets ${adsetCv.toFixed(3)} (model ${ADSET_RATE_CV.toFixed(3)}), campaigns ${campaignCv.toFixed(3)}; ` +
        `raw day-to-day CV of the campaigns' conversion rate (median) ${raw.toFixed(3)}`,
    );
    // The moments estimator over ~230 ad sets x 120 days has a standard error near 0.01.
    expect(adsetCv).toBeGreaterThan(ADSET_RATE_CV - 0.03);
    expect(adsetCv).toBeLessThan(ADSET_RATE_CV + 0.03);
    expect(campaignCv).toBeGreaterThan(0.15);
    expect(campaignCv).toBeLessThan(0.25);
    // Each vertical on its own, too (small counts in lead generation, large in apps).
    for (const t of data.tenants) {
      const mine = campaigns.filter((e) => e.tenantId === t.tenant.id);
      const cv = conversionRateCv(mine);
      expect(cv, t.tenant.name).toBeGreaterThan(NOISE.conversionRate.common - 0.04);
      expect(cv, t.tenant.name).toBeLessThan(0.25);
    }
  });

  it('order values: CV of one order as stated per vertical (0.8 for shops and apps)', () => {
    for (const t of data.tenants) {
      const mine = adsets.filter((e) => e.tenantId === t.tenant.id);
      const kappa = orderValueCv(mine);
      const model = ORDER_VALUE_CV[t.tenant.vertical];
      console.info(`${t.tenant.name}: CV of one order's value ${kappa.toFixed(3)} (model ${model})`);
      expect(kappa, t.tenant.name).toBeGreaterThan(model * 0.9);
      expect(kappa, t.tenant.name).toBeLessThan(model * 1.1);
    }
  });

  it('counts are at least Poisson: clicks given impressions, impressions given spend; conversions over-dispersed', () => {
    const clicks = dispersionIndex(adsets, 'clicks', 'impressions');
    const impressions = dispersionIndex(adsets, 'impressions', 'spend');
    const conversions = dispersionIndex(adsets, 'conversions', 'clicks');
    console.info(`dispersion index (1 = Poisson): clicks|impressions ${clicks.toFixed(1)}, impressions|spend ${impressions.toFixed(0)}, conversions|clicks ${conversions.toFixed(2)}`);
    expect(clicks).toBeGreaterThan(1);
    expect(impressions).toBeGreaterThan(1);
    expect(conversions).toBeGreaterThan(1.5);
    // Never quieter than Poisson, ad set by ad set (a sampling margin for 120 days).
    for (const e of adsets) expect(dispersionIndex([e], 'clicks', 'impressions'), e.id).toBeGreaterThan(0.7);
  });

  it('tails as wide as the model gives, recent days included: nothing redrawn to look ordinary', () => {
    const c = conversionRateCv(campaigns);
    const last = 120;
    const recent = campaigns.flatMap((e) => conversionResiduals(e, c, { from: last - 28, to: last }));
    const earlier = campaigns.flatMap((e) => conversionResiduals(e, c, { from: 0, to: last - 28 }));
    const tail = (zs: readonly number[], z: number) => zs.filter((x) => Math.abs(x) > z).length / zs.length;
    const expected = 2 * (1 - normalCdf(2.5));
    console.info(
      `steady campaign-days beyond 2.5 sd of the NB model: last 28 days ${(100 * tail(recent, 2.5)).toFixed(2)} %, ` +
        `earlier ${(100 * tail(earlier, 2.5)).toFixed(2)} %, normal ${(100 * expected).toFixed(2)} %`,
    );
    // About 1.2 % of ~1,500 recent campaign-days (18); a generator that calms
    // the recent days would leave next to none there.
    expect(tail(recent, 2.5)).toBeGreaterThan(0.4 * expected);
    expect(tail(recent, 2.5)).toBeLessThan(3 * expected);
    expect(tail(recent, 2.5)).toBeGreaterThan(0.4 * tail(earlier, 2.5));
    // The residuals have the model's spread (sd about 1), recent and earlier alike.
    const sd = (zs: readonly number[]) => Math.sqrt(zs.reduce((a, b) => a + b * b, 0) / zs.length);
    expect(sd(recent)).toBeGreaterThan(0.85);
    expect(sd(recent)).toBeLessThan(1.15);
    expect(sd(earlier)).toBeGreaterThan(0.85);
    expect(sd(earlier)).toBeLessThan(1.15);
  });

  it('is deterministic: the same day gives the same rows', () => {
    const again = generateDemoData(TODAY);
    expect(again.tenants.map((t) => t.metrics)).toEqual(data.tenants.map((t) => t.metrics));
  });
});
