// What the A/B test pages show, read in the tenant's transaction and shaped for the components:
// the list (rows with the leader and its chance, the count of each status) and one test's results
// (the view of lib/abtests/view.ts, and what its actions need). Readings are as of the tenant's
// yesterday, the last complete day, as the daily loop reads them.
import 'server-only';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { campaignHref, tenantStyle } from '@/lib/performance/queries';
import { readTestNow, type AbTestRecord, type TestReading } from './data';
import type { AbTestStatus } from './model';
import { listAbTests, readAbTest } from './queries';
import { listRow, resultView, type ListRow, type ResultTestInput, type ResultView } from './view';

export interface AbTestListPage {
  style: NumberStyle;
  timeZone: string;
  /** The tenant's last complete day: the readings are as of it. */
  asOf: string;
  rows: ListRow[];
  counts: Record<AbTestStatus, number>;
  /** Tests of every status. */
  total: number;
}

export async function abTestListPage(trx: Tx, tenantId: string, filter: { status: AbTestStatus | null }): Promise<AbTestListPage> {
  const { lastDay, timezone, currency, locale } = await tenantStyle(trx, tenantId);
  const list = await listAbTests(trx, tenantId, filter, lastDay);
  // Grouped by status (running first), newest first within each: a stable sort of the newest-first list.
  const rows = list.items
    .map(({ test, campaignName, analysis }) =>
      listRow({ ...test, campaignName, declared: test.status === 'completed' && (test.winner === 'A' || test.winner === 'B') && test.state !== null && !test.state.winnerDay }, analysis, locale),
    )
    .sort((a, b) => a.statusRank - b.statusRank);
  const total = Object.values(list.counts).reduce((s, n) => s + n, 0);
  return { style: { currency, locale }, timeZone: timezone, asOf: lastDay, rows, counts: list.counts, total };
}

/** What the test's action buttons need (components/abtests/TestActions). */
export interface TestActionState {
  testId: string;
  status: AbTestStatus;
  winner: 'A' | 'B' | 'none' | null;
  /** The winner the daily loop latched (the first look meeting the decision rule), or null. */
  latchedWinner: 'A' | 'B' | null;
  /** The decision rule is met now: a winner can be declared. */
  decisionMet: boolean;
  /** ISO instant of the test's last change (the actions refuse a stale form). */
  updatedAt: string;
}

export interface AbTestResultPage {
  style: NumberStyle;
  timeZone: string;
  asOf: string;
  view: ResultView;
  actions: TestActionState;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : d instanceof Date ? d.toISOString() : d);

/** The record as view.ts takes it: instants as ISO strings, the campaign's name and link. */
export function resultTestInput(test: AbTestRecord, campaignName: string | null): ResultTestInput {
  return {
    ...test,
    campaignName,
    campaignHref: test.platform && test.campaignId ? campaignHref(test.platform, test.campaignId) : null,
    design: { ...test.design, frozenAt: iso(test.design.frozenAt) },
    state: test.state ? { ...test.state, evaluatedAt: iso(test.state.evaluatedAt)! } : null,
  };
}

export function actionState(test: AbTestRecord, reading: TestReading): TestActionState {
  const status = reading.analysis.decision.status;
  return {
    testId: test.id,
    status: test.status,
    winner: test.winner,
    latchedWinner: reading.reading.winner,
    decisionMet: status === 'winner_a' || status === 'winner_b',
    updatedAt: iso(test.updatedAt)!,
  };
}

/** One test's results page, or null when the tenant has no test of that id (another tenant's is invisible). */
export async function abTestResultPage(trx: Tx, tenantId: string, id: string): Promise<AbTestResultPage | null> {
  const found = await readAbTest(trx, tenantId, id);
  if (!found) return null;
  const { lastDay, timezone, currency, locale } = await tenantStyle(trx, tenantId);
  const style = { currency, locale };
  const reading = await readTestNow(trx, tenantId, found.test, lastDay);
  return {
    style,
    timeZone: timezone,
    asOf: reading.day,
    view: resultView(resultTestInput(found.test, found.campaignName), reading, style, timezone),
    actions: actionState(found.test, reading),
  };
}
