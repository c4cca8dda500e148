'use client';
// The performance page's campaign (or ad set) table: one row per entity with
// its spend, conversions, value, ROAS, CPA and CTR, their changes against the
// comparison, its rating, budget and pacing. Over the app's one data table:
// search, platform and rating filters, pages, a column chooser, a totals row
// of ratios of sums over every matching row, and a CSV export of what matches.
import { useCallback, useMemo } from 'react';
import { DataTable, type DataColumn, type DataRow, type DataTableFilter } from '@/components/tables/DataTable';
import type { NumberStyle } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import { platformsText, RATINGS, ratingRank, ratingTone, rowFigures, statusLabel, totalsOf } from '@/lib/performance/table';
import type { EntityRow } from '@/lib/performance/types';
import styles from './CampaignTable.module.css';

export interface CampaignTableProps {
  rows: EntityRow[];
  style: NumberStyle;
  level: 'campaign' | 'adset';
  /** What the changes are against, as the page says it ("baseline", "previous period"). */
  comparisonLabel: string;
  /** The CSV download's name. */
  fileName: string;
}

const PAGE_SIZES = [25, 50, 100];
const TOTAL_ID = '__total__';

function columnsFor(level: 'campaign' | 'adset', comparisonLabel: string): DataColumn[] {
  const vs = `vs ${comparisonLabel}`;
  const cols: DataColumn[] = [
    {
      key: 'name',
      header: level === 'campaign' ? 'Campaign' : 'Ad set',
      kind: 'link',
      hrefKey: 'href',
      sortable: true,
      hideable: false,
      ...(level === 'adset' ? { noteKey: 'campaignName', noteBlock: true, noteHeader: 'Campaign' } : {}),
    },
    { key: 'platform', header: 'Platform' },
    { key: 'spend', header: 'Spend', kind: 'money' },
    { key: 'spendDelta', header: 'Spend Δ %', headerNote: vs, kind: 'delta', toneKey: 'spendTone' },
    { key: 'conversions', header: 'Conversions', kind: 'number' },
    { key: 'value', header: 'Conversion value', kind: 'money' },
    { key: 'roas', header: 'ROAS', kind: 'ratio' },
    { key: 'roasDelta', header: 'ROAS Δ %', headerNote: vs, kind: 'delta', toneKey: 'roasTone' },
    { key: 'cpa', header: 'CPA', kind: 'money' },
    { key: 'cpaDelta', header: 'CPA Δ %', headerNote: vs, kind: 'delta', toneKey: 'cpaTone' },
    { key: 'ctr', header: 'CTR', kind: 'percent' },
    { key: 'ctrDelta', header: 'CTR Δ %', headerNote: vs, kind: 'delta', toneKey: 'ctrTone' },
    // Sorted by rank (Excellent first); "Insufficient data" has none and goes last.
    { key: 'rating', header: 'Rating', kind: 'badge', toneKey: 'ratingTone', sortKey: 'ratingRank', sortAs: 'number' },
  ];
  // Budgets are set on campaigns: an ad set has none, so no empty columns for them.
  if (level === 'campaign') {
    cols.push(
      { key: 'dailyBudget', header: 'Daily budget', kind: 'money' },
      { key: 'pacing', header: 'Pacing', kind: 'meter', noteKey: 'status', noteBlock: true, noteHeader: 'Status' },
    );
  }
  return cols;
}

function dataRow(r: EntityRow): DataRow {
  const f = rowFigures(r);
  return {
    id: r.id,
    name: r.name,
    href: r.href,
    entityId: r.entityId,
    campaignName: r.level === 'adset' ? r.campaignName : null,
    platformCode: r.platform,
    platform: platformLabel(r.platform),
    spend: f.spend,
    spendDelta: f.delta.spend,
    spendTone: f.tone.spend,
    conversions: f.conversions,
    value: f.value,
    roas: f.roas,
    roasDelta: f.delta.roas,
    roasTone: f.tone.roas,
    cpa: f.cpa,
    cpaDelta: f.delta.cpa,
    cpaTone: f.tone.cpa,
    ctr: f.ctr,
    ctrDelta: f.delta.ctr,
    ctrTone: f.tone.ctr,
    rating: r.rating,
    ratingRank: ratingRank(r.rating),
    ratingTone: ratingTone(r.rating),
    dailyBudget: r.dailyBudget,
    pacing: r.pacing,
    status: statusLabel(r.budgetStatus),
  };
}

export function CampaignTable({ rows, style, level, comparisonLabel, fileName }: CampaignTableProps) {
  const columns = useMemo(() => columnsFor(level, comparisonLabel), [level, comparisonLabel]);
  const data = useMemo(() => rows.map(dataRow), [rows]);
  const byId = useMemo(() => new Map(rows.map((r) => [r.id, r])), [rows]);

  const filters = useMemo<DataTableFilter[]>(() => {
    const platforms = [...new Set(rows.map((r) => r.platform))].sort((a, b) => platformLabel(a).localeCompare(platformLabel(b)));
    const ratings = RATINGS.filter((x) => rows.some((r) => r.rating === x));
    return [
      {
        key: 'platform',
        field: 'platformCode',
        label: 'Platform',
        allLabel: 'All platforms',
        options: platforms.map((p) => ({ value: p, label: platformLabel(p) })),
      },
      { key: 'rating', label: 'Rating', allLabel: 'All ratings', options: ratings.map((x) => ({ value: x, label: x })) },
    ];
  }, [rows]);

  // Totals over the rows that match (every page): sums, then the rates of the sums.
  const footer = useCallback(
    (matching: DataRow[]): DataRow => {
      const entities = matching.map((d) => byId.get(d.id)).filter((r): r is EntityRow => r !== undefined);
      const t = totalsOf(entities);
      return {
        id: TOTAL_ID,
        name: t.label,
        href: null,
        entityId: null,
        campaignName: null,
        platformCode: null,
        platform: platformsText(t.platforms),
        spend: t.spend,
        spendDelta: t.delta.spend,
        spendTone: t.tone.spend,
        conversions: t.conversions,
        value: t.value,
        roas: t.roas,
        roasDelta: t.delta.roas,
        roasTone: t.tone.roas,
        cpa: t.cpa,
        cpaDelta: t.delta.cpa,
        cpaTone: t.tone.cpa,
        ctr: t.ctr,
        ctrDelta: t.delta.ctr,
        ctrTone: t.tone.ctr,
        // A rating, budget or pacing of several rows would mean nothing summed.
        rating: null,
        ratingRank: null,
        ratingTone: null,
        dailyBudget: null,
        pacing: null,
        status: null,
      };
    },
    [byId],
  );

  const noun = level === 'campaign' ? 'campaigns' : 'ad sets';
  return (
    <div className={styles.wrap}>
      <p className={styles.note}>
        Δ %: change against the {comparisonLabel}. Rates of the totals are ratios of the sums (total value / total spend), over every row
        that matches the search and filters.
      </p>
      <DataTable
        caption={`${level === 'campaign' ? 'Campaigns' : 'Ad sets'}: spend, conversions, value, ROAS, CPA and CTR, with their change against the ${comparisonLabel}`}
        columns={columns}
        rows={data}
        numberStyle={style}
        sorting={{ mode: 'client', initial: { key: 'spend', desc: true } }}
        search={{ label: `Search ${noun}`, keys: ['name', 'entityId'], placeholder: 'Name or id' }}
        filters={filters}
        pagination={{ pageSizes: PAGE_SIZES, pageSize: 25 }}
        columnChooser
        footer={footer}
        exportCsv={{ fileName }}
        emptyMessage={rows.length === 0 ? `No ${noun} with data in this range` : `No ${noun} match`}
      />
    </div>
  );
}
