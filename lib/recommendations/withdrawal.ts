// What changed between a withdrawn recommendation's figures and the figures
// the engine withdrew it on: "CPA €142.00 → €95.10, conversions 3 → 9".
// The engine (ads_engine.withdraw_recommendation, db/media_buying/090) keeps
// the 7-day figures at withdrawal in evidence -> 'withdrawal' next to its
// reason; the rest of the evidence is what the recommendation was last shown
// with (a pending one is refreshed in place on each run, so that is the
// latest figures before it was withdrawn, not those of the day it was made).
import 'server-only';
import type { Tx } from '@/lib/db';
import { currencyDecimals, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { boundIds } from './outcomes';

export type Evidence = Record<string, unknown>;

/** The evidence of the tenant's withdrawn recommendations among `ids` (other ids and statuses left out). */
export async function withdrawalEvidence(trx: Tx, tenantId: string, ids: readonly string[]): Promise<Map<string, { type: string; evidence: Evidence }>> {
  const wanted = boundIds(ids);
  if (wanted.length === 0) return new Map();
  const rows = await trx
    .selectFrom('ads.optimization_recommendations as o')
    .where('o.tenant_id', '=', tenantId)
    .where('o.status', '=', 'withdrawn')
    .where('o.id', 'in', wanted)
    .select(['o.id', 'o.recommendation_type', 'o.evidence'])
    .execute();
  return new Map(rows.map((r) => [r.id, { type: r.recommendation_type, evidence: isObject(r.evidence) ? r.evidence : {} }]));
}

function isObject(v: unknown): v is Evidence {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

type Kind = 'money' | 'unit_money' | 'count' | 'ratio' | 'fraction';

/** The 7-day figures both sides can hold, how each is written, and what a missing ratio means. */
const FIGURES: Readonly<Record<string, { label: string; kind: Kind; none?: string }>> = {
  cpa_7d: { label: 'CPA', kind: 'unit_money', none: 'no conversions' },
  roas_7d: { label: 'ROAS', kind: 'ratio', none: 'no spend' },
  cpc_7d: { label: 'CPC', kind: 'unit_money', none: 'no clicks' },
  ctr_7d: { label: 'CTR', kind: 'fraction', none: 'no impressions' },
  conversions_7d: { label: 'conversions', kind: 'count' },
  spend_7d: { label: 'spend', kind: 'money' },
  value_7d: { label: 'value', kind: 'money' },
};
/** After the tested metric, the order the others are worth reading in. */
const OTHERS = ['conversions_7d', 'spend_7d', 'cpa_7d', 'roas_7d', 'value_7d', 'cpc_7d', 'ctr_7d'] as const;
/** A cell stays short: the tested metric and at most three more. */
const MAX_ITEMS = 4;


/**
 * Both sides of a pair at the same precision, so "€142 → €95.10" cannot happen: CPA and CPC always to the
 * currency's minor unit; spend and value whole unless either side is under 100.
 */
function writePair(kind: Kind, a: number | null, b: number | null, style: NumberStyle): [string | null, string | null] {
  const w = (v: number | null, f: (v: number) => string) => (v === null ? null : f(v));
  switch (kind) {
    case 'unit_money': {
      const d = currencyDecimals(style.currency);
      return [w(a, (v) => formatMoney(v, style, { decimals: d })), w(b, (v) => formatMoney(v, style, { decimals: d }))];
    }
    case 'money': {
      const small = [a, b].some((v) => v !== null && Math.abs(v) < 100);
      const d = small ? currencyDecimals(style.currency) : 0;
      return [w(a, (v) => formatMoney(v, style, { decimals: d })), w(b, (v) => formatMoney(v, style, { decimals: d }))];
    }
    case 'count': {
      const d = [a, b].some((v) => v !== null && !Number.isInteger(v)) ? 1 : 0;
      return [w(a, (v) => formatNumber(v, style, d)), w(b, (v) => formatNumber(v, style, d))];
    }
    case 'ratio':
      return [w(a, (v) => formatNumber(v, style, 2)), w(b, (v) => formatNumber(v, style, 2))];
    case 'fraction':
      return [w(a, (v) => formatPercent(v, style, 2)), w(b, (v) => formatPercent(v, style, 2))];
  }
}

/** The metric a recommendation was decided on and the line it was tested against (docs/engine.md). */
export function testedFigure(type: string, e: Evidence): { key: keyof typeof FIGURES; line: number | null } | null {
  switch (type) {
    case 'pause':
      return { key: 'cpa_7d', line: num(e.pause_line) };
    case 'budget_increase':
    case 'budget_decrease': {
      // value_* tests judge ROAS against its line, nb_* tests CPA (no ROAS target).
      const test = typeof e.test === 'string' ? e.test : '';
      const roas = test.startsWith('value_') || (!test.startsWith('nb_') && num(e.target_roas) !== null);
      return { key: roas ? 'roas_7d' : 'cpa_7d', line: num(e.line) };
    }
    case 'bid_adjustment':
      return e.rule === 'cpc_up' ? { key: 'cpc_7d', line: num(e.line) } : { key: 'cpa_7d', line: num(e.max_cpa) ?? num(e.line) };
    case 'creative':
      return { key: 'ctr_7d', line: num(e.line) };
    default:
      // audience (CPM) and timing (28 days by weekday) have no 7-day figure to set against the withdrawal's.
      return null;
  }
}

export interface FigureChange {
  key: string;
  label: string;
  before: string;
  after: string;
  /** The line the tested metric was held to, written like it. */
  line: string | null;
}

export interface WhatChanged {
  changes: FigureChange[];
  /** One line for the cell. */
  text: string;
}

// Withdrawn at approval (the re-check) or for no delivery: the reason says which.
const NO_FIGURES = 'No figures recorded at withdrawal';

const capitalise = (s: string) => s.replace(/^./, (c) => c.toUpperCase());

/**
 * The figures that moved, tested metric first (with its line), then conversions and spend, unchanged ones left
 * out; when no figure can be set side by side, the figures at withdrawal alone ("at withdrawal: ...").
 */
export function whatChanged(type: string, evidence: Evidence, style: NumberStyle): WhatChanged {
  const after = isObject(evidence.withdrawal) ? evidence.withdrawal : null;
  const figuresAfter = after ? Object.keys(after).filter((k) => k in FIGURES) : [];
  if (!after || figuresAfter.length === 0) return { changes: [], text: NO_FIGURES };

  const tested = testedFigure(type, evidence);
  const keys = [...new Set([...(tested ? [tested.key] : []), ...OTHERS])];
  const changes: FigureChange[] = [];
  for (const key of keys) {
    if (changes.length >= MAX_ITEMS) break;
    // Only a figure both sides hold: a key the engine wrote as null (CPA without conversions) counts as held.
    if (!(key in evidence) || !(key in after)) continue;
    const f = FIGURES[key]!;
    const a = num(evidence[key]);
    const b = num(after[key]);
    if (a === null && b === null) continue;
    const [before, now] = writePair(f.kind, a, b, style);
    const isTested = tested?.key === key;
    if (!isTested && before === now) continue;
    const line = isTested && tested.line !== null ? writePair(f.kind, tested.line, null, style)[0] : null;
    changes.push({ key, label: f.label, before: before ?? f.none ?? '—', after: now ?? f.none ?? '—', line });
  }
  if (changes.length > 0) {
    const text = changes.map((c) => `${c.label} ${c.before} → ${c.after}${c.line ? ` (line ${c.line})` : ''}`).join(', ');
    return { changes, text: capitalise(text) };
  }
  // Nothing to set side by side (audience, timing, a 28-day pause): say what the figures were when it went.
  const now = OTHERS.filter((k) => num(after[k]) !== null)
    .slice(0, 3)
    .map((k) => `${FIGURES[k]!.label} ${writePair(FIGURES[k]!.kind, num(after[k]), null, style)[0]}`);
  return { changes: [], text: now.length > 0 ? `At withdrawal: ${now.join(', ')}` : NO_FIGURES };
}
