'use client';
// The month per platform and for every platform together, over the app's one
// data table: daily and month budgets of the active allocations, spend of
// yesterday and of the month to date of every allocation, and the projected
// month end against the month budget.
import { useCallback } from 'react';
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import type { TotalsRow } from '@/lib/budgets/queries';
import type { NumberStyle } from '@/lib/format/number';

const COLUMNS: DataColumn[] = [
  { key: 'label', header: 'Platform' },
  { key: 'allocations', header: 'Allocations', kind: 'number', noteKey: 'activeNote', noteBlock: true },
  { key: 'dailyBudget', header: 'Daily budget', headerNote: 'active', kind: 'money' },
  { key: 'monthBudget', header: 'Month budget', headerNote: 'active', kind: 'money' },
  { key: 'yesterdaySpend', header: 'Spend yesterday', kind: 'money' },
  { key: 'mtdSpend', header: 'Month to date', kind: 'money' },
  { key: 'projected', header: 'Projected month end', kind: 'money' },
  { key: 'ratio', header: 'Projected / budget', kind: 'meter' },
  { key: 'offPace', header: 'Off pace', kind: 'number' },
];

function toRow(t: TotalsRow): DataRow {
  return {
    id: t.key,
    label: t.label,
    allocations: t.allocations,
    activeNote: `${t.active} active`,
    dailyBudget: t.dailyBudget,
    monthBudget: t.monthBudget,
    yesterdaySpend: t.yesterdaySpend,
    mtdSpend: t.mtdSpend,
    projected: t.projected,
    ratio: t.ratio,
    offPace: t.offPace,
  };
}

export function TotalsTable({ platforms, overall, style }: { platforms: TotalsRow[]; overall: TotalsRow; style: NumberStyle }) {
  const rows = platforms.map(toRow);
  // The overall row is computed by the server over every allocation (the same sums), not re-added here.
  const footer = useCallback(() => (platforms.length > 1 ? toRow(overall) : null), [platforms.length, overall]);
  return (
    <DataTable
      caption="Budgets and spend per platform this month"
      columns={COLUMNS}
      rows={rows}
      numberStyle={style}
      footer={footer}
      sorting={{ mode: 'client' }}
    />
  );
}
