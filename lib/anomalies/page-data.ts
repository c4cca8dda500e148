// What the board's pages show, read in the tenant's transaction and shaped for
// the components: the columns as cards (with their links and the feedback of
// their kind) and, when one is open, an anomaly's detail.
import 'server-only';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { tenantStyle } from '@/lib/performance/queries';
import { feedbackText, scoreText, testInWords } from './labels';
import {
  feedbackFigures,
  feedbackKey,
  FEEDBACK_DAYS,
  incidentOf,
  readAnomaly,
  readBoard,
  readHistory,
  readRelated,
  type AnomalyRow,
  type BoardCard,
  type Feedback,
  type HistoryEntry,
} from './queries';
import { boardHref, STATUS_LABEL, type BoardFilter } from './schema';
import { anomalySeries, type AnomalySeries } from './series';
import type { CardAnomaly, CardView, ColumnView } from './view';

export interface AnomalyDetail {
  anomaly: CardAnomaly;
  test: string | null;
  score: string | null;
  series: AnomalySeries;
  history: HistoryEntry[];
  sameEntity: CardAnomaly[];
  samePlatformDay: CardAnomaly[];
  /** The board incident it belongs to, or null. */
  incident: Extract<CardView, { kind: 'incident' }> | null;
  /** The campaigns an engine platform row names. */
  engineMembers: string[];
}

export interface BoardPage {
  style: NumberStyle;
  timeZone: string;
  columns: ColumnView[];
  dismissedCount: number;
  detail: AnomalyDetail | null;
  /** The id asked for in the URL was not found in this tenant. */
  detailMissing: boolean;
}

function cardAnomaly(a: AnomalyRow, f: Partial<BoardFilter>, feedback: Map<string, Feedback>): CardAnomaly {
  return {
    id: a.id,
    platform: a.platform,
    level: a.level,
    entityName: a.entityName,
    href: a.href,
    day: a.day,
    metric: a.metric,
    type: a.type,
    baseline: a.baseline,
    actual: a.actual,
    deviationPct: a.deviationPct,
    money: a.money,
    severity: a.severity,
    status: a.status,
    ageSeconds: a.ageSeconds,
    resolvedAt: a.resolvedAt,
    resolutionNote: a.resolutionNote,
    snoozedUntil: a.snoozedUntil,
    platformRow: a.platformRow,
    engineMembers: a.engineMembers,
    feedback: feedbackText(feedback.get(feedbackKey(a.platform, a.metric, a.type)), FEEDBACK_DAYS),
    detailHref: boardHref(f, { anomaly: a.id }),
  };
}

function cardView(c: BoardCard, f: Partial<BoardFilter>, feedback: Map<string, Feedback>): CardView {
  if (c.kind === 'single') return { kind: 'single', key: c.key, anomaly: cardAnomaly(c.anomaly, f, feedback) };
  return {
    kind: 'incident',
    key: c.key,
    incident: `${c.platform}|${c.level}|${c.day}`,
    platform: c.platform,
    level: c.level,
    day: c.day,
    severity: c.severity,
    money: c.money,
    entities: c.entities,
    activeEntities: c.activeEntities,
    status: c.members[0]!.status,
    members: c.members.map((m) => cardAnomaly(m, f, feedback)),
  };
}

const EMPTY: Readonly<Record<string, string>> = {
  active: 'Nothing active. The engine checks yesterday every day after the data arrive.',
  investigating: 'Nothing under investigation. Acknowledge an active card to work on it.',
  resolved: 'Nothing resolved in the last 30 days.',
  dismissed: 'Nothing dismissed.',
};

export async function anomalyDetail(trx: Tx, tenantId: string, id: string, f: Partial<BoardFilter>, lastDay: string, feedback?: Map<string, Feedback>): Promise<AnomalyDetail | null> {
  const a = await readAnomaly(trx, tenantId, id);
  if (!a) return null;
  const fb = feedback ?? (await feedbackFigures(trx, tenantId));
  const [series, history, related, incident] = await Promise.all([
    anomalySeries(trx, tenantId, a, lastDay),
    readHistory(trx, tenantId, a.id),
    readRelated(trx, tenantId, a),
    incidentOf(trx, tenantId, a),
  ]);
  const incidentView = incident ? cardView(incident, f, fb) : null;
  return {
    anomaly: cardAnomaly(a, f, fb),
    test: testInWords(a.details, (await tenantStyle(trx, tenantId)) satisfies NumberStyle, a.engineMembers.length || undefined),
    score: scoreText(a.score),
    series,
    history,
    sameEntity: related.sameEntity.map((r) => cardAnomaly(r, f, fb)),
    samePlatformDay: related.samePlatformDay.map((r) => cardAnomaly(r, f, fb)),
    incident: incidentView && incidentView.kind === 'incident' ? incidentView : null,
    engineMembers: a.engineMembers,
  };
}

export async function boardPage(trx: Tx, tenantId: string, f: BoardFilter): Promise<BoardPage> {
  const { lastDay, timezone, currency, locale } = await tenantStyle(trx, tenantId);
  const style: NumberStyle = { currency, locale };
  const [board, feedback] = [await readBoard(trx, tenantId, f), await feedbackFigures(trx, tenantId)];
  const columns: ColumnView[] = board.columns.map((c) => ({
    status: c.status,
    count: c.count,
    snoozed: c.snoozed,
    cards: c.cards.map((card) => cardView(card, f, feedback)),
    hiddenCards: c.hiddenCards,
    moreHref: c.hiddenCards > 0 ? boardHref(f, { more: c.status }) : null,
    snoozedHref: c.status === 'active' && !f.snoozed ? boardHref(f, { snoozed: true }) : null,
    emptyText: EMPTY[c.status] ?? `No ${STATUS_LABEL[c.status].toLowerCase()} anomaly.`,
  }));
  const detail = f.anomaly ? await anomalyDetail(trx, tenantId, f.anomaly, f, lastDay, feedback) : null;
  return { style, timeZone: timezone, columns, dismissedCount: board.dismissedCount, detail, detailMissing: Boolean(f.anomaly) && !detail };
}
