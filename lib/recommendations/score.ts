// The optimization score: how much of the improvement the engine estimates is
// attainable the pending recommendations stand for, per campaign and for the
// account, 0..1 (100 % = nothing left to act on). Pure; the model is written
// out in docs/recommendations.md.
//
// Each pending recommendation i of campaign c claims a share of the campaign's
// week: r_i = min(1, confidence_i x money_i / B_c), where money_i is the money
// per week the engine put on it (evidence money_per_week) and B_c what that
// money is a part of over the same 7 days: the campaign's spend S_c for what
// saves or adds spend (a pause, a decrease, a bid, an audience, a creative,
// timing, a raise judged on CPA), its conversion value V_c for a raise judged
// on ROAS, whose money is the value the extra budget brings (S_c when the
// campaign has no value). Shares
// combine jointly, not by sum: two fixes of one campaign act on the same
// spend, so together they reach F = 1 - prod(1 - r_i), never more than all of
// it. A raise and a lowering (decrease or pause) of one campaign cannot both
// be done: the campaign's attainable share is the larger of the two sides,
// each taken with the recommendations that side-step the budget (bids,
// creatives, audiences, timing):
//     F_c = max(F(raise + neutral), F(lower + neutral)).
// Campaign score 1 - F_c; account score 1 - sum(S_c F_c) / sum(S_c) over every
// campaign that spent in the window (those with nothing pending count at 100 %).
// A recommendation's uplift is what approving it (alone) adds to the account
// score: S_c (F_c - F_c without it) / sum(S_c). Without a conflict that is
// r_i prod_{j != i}(1 - r_j) S_c / sum(S_c); the smaller side of a conflict
// adds nothing until the larger one is decided. Uplifts add up to no more
// than the gap: they overlap, as the fixes do.

export type Side = 'raise' | 'lower' | 'neutral';

export function sideOf(type: string): Side {
  if (type === 'budget_increase') return 'raise';
  if (type === 'budget_decrease' || type === 'pause') return 'lower';
  return 'neutral';
}

export interface ScoreRecommendation {
  id: string;
  type: string;
  /** The campaign it acts on: platform and campaign id (an ad set's parent). */
  platform: string;
  campaignId: string;
  /** Money per week at stake, in the tenant's currency (>= 0). */
  moneyPerWeek: number;
  /** What that money is a part of: 'value' for a raise judged on ROAS (its money is value gained), else the spend. */
  moneyOf?: 'value' | 'spend';
  /** 0..1. */
  confidence: number;
}

export interface ScoreCampaign {
  platform: string;
  campaignId: string;
  name: string | null;
  /** Spend over the 7 days of the window (>= 0). */
  spend7: number;
  /** Conversion value over the same days (>= 0): what a budget increase's money adds to. */
  value7: number;
}

export interface CampaignScore extends ScoreCampaign {
  score: number;
  /** F_c: the share of its week the pending recommendations could improve. */
  attainable: number;
  pending: number;
}

export interface OptimizationScore {
  /** 0..1, or null when no campaign spent in the window (nothing to score). */
  account: number | null;
  /** Every campaign with something pending, lowest score first. */
  campaigns: CampaignScore[];
  /** Score points (0..1) each recommendation would add, by id. */
  uplift: Map<string, number>;
  /** Total spend of the window behind the account score. */
  spend7: number;
}

const key = (platform: string, campaignId: string) => `${platform}\u0000${campaignId}`;
const finite = (x: number) => (Number.isFinite(x) ? x : 0);

/** 1 - prod(1 - r): the joint share of a set of shares in [0, 1]. */
export function joint(shares: number[]): number {
  let keep = 1;
  for (const r of shares) keep *= 1 - Math.min(1, Math.max(0, finite(r)));
  return 1 - keep;
}

/** F_c of a campaign's shares, by side. */
export function attainable(items: { side: Side; share: number }[]): number {
  const neutral = items.filter((i) => i.side === 'neutral').map((i) => i.share);
  const raise = items.filter((i) => i.side === 'raise').map((i) => i.share);
  const lower = items.filter((i) => i.side === 'lower').map((i) => i.share);
  return Math.max(joint([...raise, ...neutral]), joint([...lower, ...neutral]));
}

export function optimizationScore(campaigns: ScoreCampaign[], recs: ScoreRecommendation[]): OptimizationScore {
  const spend = new Map<string, ScoreCampaign>();
  for (const c of campaigns) if (c.spend7 > 0 && Number.isFinite(c.spend7)) spend.set(key(c.platform, c.campaignId), c);
  const total = [...spend.values()].reduce((s, c) => s + c.spend7, 0);

  const byCampaign = new Map<string, { rec: ScoreRecommendation; side: Side; share: number }[]>();
  for (const r of recs) {
    const c = spend.get(key(r.platform, r.campaignId));
    // No spend in the window: nothing of the account's week is at stake there.
    if (!c) continue;
    const base = r.moneyOf === 'value' && c.value7 > 0 && Number.isFinite(c.value7) ? c.value7 : c.spend7;
    const share = Math.min(1, (Math.min(1, Math.max(0, finite(r.confidence))) * Math.max(0, finite(r.moneyPerWeek))) / base);
    const k = key(r.platform, r.campaignId);
    const list = byCampaign.get(k) ?? [];
    list.push({ rec: r, side: sideOf(r.type), share });
    byCampaign.set(k, list);
  }

  const uplift = new Map<string, number>(recs.map((r) => [r.id, 0]));
  const scored: CampaignScore[] = [];
  let lost = 0;
  for (const [k, items] of byCampaign) {
    const c = spend.get(k)!;
    const f = attainable(items);
    lost += c.spend7 * f;
    scored.push({ ...c, score: 1 - f, attainable: f, pending: items.length });
    // What deciding it alone does to the score: F_c with it, minus F_c without it.
    for (const it of items) {
      const gain = f - attainable(items.filter((o) => o !== it));
      uplift.set(it.rec.id, total > 0 ? (c.spend7 * Math.max(0, gain)) / total : 0);
    }
  }
  scored.sort((a, b) => a.score - b.score || b.spend7 - a.spend7 || a.campaignId.localeCompare(b.campaignId));
  return { account: total > 0 ? 1 - lost / total : null, campaigns: scored, uplift, spend7: total };
}
