import type { Metadata } from 'next';
import Link from 'next/link';
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import { TrackRecordPanel } from '@/components/recommendations/history/TrackRecordPanel';
import styles from '@/components/recommendations/recommendations.module.css';
import { PageHeader } from '@/components/ui/PageHeader';
import { listMembers } from '@/lib/members/queries';
import { campaignHref, tenantStyle } from '@/lib/performance/queries';
import { TYPE_LABEL } from '@/lib/recommendations/labels';
import { horizonNote, horizonText, predictedNote, predictedText, type RecommendationOutcome } from '@/lib/recommendations/outcome-format';
import { outcomesFor, trackRecord } from '@/lib/recommendations/outcomes';
import { listDecided } from '@/lib/recommendations/queries';
import { decidedFilterSchema, DECIDED_STATUSES, firstValues, type DecidedStatus } from '@/lib/recommendations/schema';
import { whatChanged, withdrawalEvidence } from '@/lib/recommendations/withdrawal';
import { tenantRead } from '@/lib/request/read';

export const metadata: Metadata = { title: 'Recommendation history' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const TAB_LABEL: Readonly<Record<DecidedStatus, string>> = {
  applied: 'Applied',
  dismissed: 'Dismissed',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

const BASE_COLUMNS: DataColumn[] = [
  { key: 'decidedAt', header: 'When', kind: 'date' },
  { key: 'type', header: 'Type' },
  { key: 'target', header: 'Target', kind: 'link', hrefKey: 'href', labelKey: 'target' },
  // folded: a sentence of evidence per row would make every row a paragraph tall
  { key: 'description', header: 'What it said', kind: 'details', labelKey: 'descriptionShort' },
  { key: 'decidedBy', header: 'Decided by' },
];
const REASON: DataColumn = { key: 'reason', header: 'Reason' };

// Applied ones have no reason; their outcome takes its place. The cells are text written here in the tenant's
// locale; they sort on the numbers behind them (not yet measured: last).
const COLUMNS: Readonly<Record<DecidedStatus, DataColumn[]>> = {
  // without the folded sentence: the three outcome columns need the width (the target's page has the story)
  applied: [
    ...BASE_COLUMNS.filter((c) => c.key !== 'description'),
    { key: 'predicted', header: 'Predicted', noteKey: 'predictedNote', noteBlock: true, sortKey: 'predictedSort', sortAs: 'number' },
    { key: 'realised7', header: 'Realised at 7 days', headerNote: 'net of comparable', noteKey: 'realised7Note', noteBlock: true, sortKey: 'realised7Sort', sortAs: 'number' },
    { key: 'realised14', header: 'Realised at 14 days', headerNote: 'net of comparable', noteKey: 'realised14Note', noteBlock: true, sortKey: 'realised14Sort', sortAs: 'number' },
  ],
  dismissed: [...BASE_COLUMNS, REASON],
  expired: [...BASE_COLUMNS, REASON],
  withdrawn: [...BASE_COLUMNS, REASON, { key: 'whatChanged', header: 'What changed', sortable: false }],
};

/** The first words of a sentence, cut at a word, for a folded cell's summary. */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max / 2)).trimEnd()}…`;
}

export default async function HistoryPage({ searchParams }: { searchParams: SearchParams }) {
  // Bad values fall back (the schema catches each one): applied, everyone, page 1.
  const filter = decidedFilterSchema.parse(firstValues(await searchParams));
  const { data } = await tenantRead('viewer', async (trx, { tenant }) => {
    // One transaction, one connection: the reads go one after the other.
    const page = await listDecided(trx, tenant.tenantId, filter);
    const members = await listMembers(trx, tenant.tenantId);
    const style = await tenantStyle(trx, tenant.tenantId);
    const ids = page.rows.map((r) => r.id);
    const applied = filter.status === 'applied';
    return {
      page,
      members,
      style,
      outcomes: applied ? await outcomesFor(trx, tenant.tenantId, ids) : [],
      record: applied ? await trackRecord(trx, tenant.tenantId, style) : [],
      withdrawals: filter.status === 'withdrawn' ? await withdrawalEvidence(trx, tenant.tenantId, ids) : null,
    };
  });
  const { style } = data;
  const outcomes = new Map<string, RecommendationOutcome>(data.outcomes.map((o) => [o.id, o]));
  const rows: DataRow[] = data.page.rows.map((r) => {
    const row: DataRow = {
      id: r.id,
      decidedAt: r.decidedAt,
      type: TYPE_LABEL[r.type] ?? r.type,
      target: r.entityName ?? r.entityId ?? '—',
      href: r.platform && r.campaignId ? campaignHref(r.platform, r.campaignId) : null,
      description: r.description,
      descriptionShort: shorten(r.description, 48),
      decidedBy: r.decidedBy?.label ?? (r.status === 'withdrawn' ? 'the engine' : '—'),
      reason: r.reason,
    };
    const o = outcomes.get(r.id);
    if (o) {
      row.predicted = predictedText(o, style);
      row.predictedNote = predictedNote(o);
      row.predictedSort = o.expectedChange;
      row.realised7 = o.recorded ? horizonText(o.h7, style, style.lastDay) : '—';
      row.realised7Note = horizonNote(o.h7, style);
      row.realised7Sort = o.h7?.realised ?? null;
      row.realised14 = o.recorded ? horizonText(o.h14, style, style.lastDay) : '—';
      row.realised14Note = horizonNote(o.h14, style);
      row.realised14Sort = o.h14?.realised ?? null;
    }
    const w = data.withdrawals?.get(r.id);
    if (w) row.whatChanged = whatChanged(w.type, w.evidence, style).text;
    return row;
  });
  const href = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return s ? `/recommendations/history?${s}` : '/recommendations/history';
  };
  return (
    <>
      <PageHeader title="Recommendation history" description={<Link href="/recommendations">← Back to the queue</Link>} />
      <nav aria-label="History" className={styles.tabs}>
        {DECIDED_STATUSES.map((s) => (
          <Link key={s} href={href({ status: s, decidedBy: filter.decidedBy })} aria-current={s === filter.status ? 'page' : undefined}>
            {TAB_LABEL[s]}
          </Link>
        ))}
      </nav>
      {/* Every applied recommendation's record, whoever decided: the filter below narrows the table only. */}
      {filter.status === 'applied' ? (
        <TrackRecordPanel lines={data.record.map((l) => ({ type: l.type, sentence: l.sentence, judged: l.judged }))} />
      ) : null}
      {filter.status === 'applied' || filter.status === 'dismissed' ? (
        <form method="get" action="/recommendations/history" className={`filters ${styles.filters}`} aria-label="Filter by who decided">
          <input type="hidden" name="status" value={filter.status} />
          <div className="field">
            <label htmlFor="rh-by">Decided by</label>
            <select id="rh-by" name="decidedBy" defaultValue={filter.decidedBy ?? ''}>
              <option value="">Anyone</option>
              {data.members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name ?? m.email}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-submit">
            <button type="submit" className="button button-small">
              Show
            </button>
          </div>
        </form>
      ) : null}
      {rows.length === 0 ? (
        <div className="empty-state">No {TAB_LABEL[filter.status].toLowerCase()} recommendations{filter.decidedBy ? ' by this member' : ''} yet.</div>
      ) : (
        <DataTable caption={`${TAB_LABEL[filter.status]} recommendations`} columns={COLUMNS[filter.status]} rows={rows} sorting={{ mode: 'client' }} />
      )}
      {data.page.pages > 1 ? (
        <nav className={styles.pager} aria-label="Pages">
          {data.page.page > 1 ? <Link href={href({ status: filter.status, decidedBy: filter.decidedBy, page: String(data.page.page - 1) })}>← Previous</Link> : null}
          <span>
            Page {data.page.page} of {data.page.pages}
          </span>
          {data.page.page < data.page.pages ? (
            <Link href={href({ status: filter.status, decidedBy: filter.decidedBy, page: String(data.page.page + 1) })}>Next →</Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
