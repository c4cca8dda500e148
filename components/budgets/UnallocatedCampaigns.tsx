'use client';
// Campaigns that delivered in the last 30 days without a budget allocation,
// largest spend first, each with its 7-day average daily spend as the
// suggested daily budget. Buyers and admins add an allocation from here; the
// action state lives above the list, so the confirmation outlives the row
// (which leaves the list once added).
import Link from 'next/link';
import { useActionState, useState } from 'react';
import { ActionForm } from '@/components/ui/ActionForm';
import { FormMessage } from '@/components/ui/FormMessage';
import { SubmitButton } from '@/components/ui/SubmitButton';
import { createBudgetAction } from '@/lib/budgets/actions';
import type { UnallocatedCampaign } from '@/lib/budgets/queries';
import { formatCalendarDay, formatMoney, type NumberStyle } from '@/lib/format/number';
import { BudgetFields } from './BudgetFields';
import styles from './budgets.module.css';

const keyOf = (c: Pick<UnallocatedCampaign, 'platform' | 'campaignId'>) => `${c.platform}\u0000${c.campaignId}`;

export function UnallocatedCampaigns({
  campaigns,
  total,
  style,
  tenantId,
  canEdit,
}: {
  campaigns: UnallocatedCampaign[];
  total: number;
  style: NumberStyle;
  tenantId: string;
  canEdit: boolean;
}) {
  const [state, add, pending] = useActionState(createBudgetAction, null);
  const [active, setActive] = useState<string | null>(null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const money = (v: number) => formatMoney(v, style, { decimals: Number.isInteger(v) ? 0 : 2 });
  return (
    <div>
      {state?.ok ? <FormMessage state={state} /> : null}
      {total > campaigns.length ? (
        <p className="muted">
          The {campaigns.length} with the largest spend of {total} are listed.
        </p>
      ) : null}
      <ul className={styles.unallocated}>
        {campaigns.map((c) => {
          const key = keyOf(c);
          const mine = active === key;
          const idPrefix = `new-${c.platform}-${c.campaignId}`.replace(/[^A-Za-z0-9_-]/g, '_');
          return (
            <li key={key}>
              <div className={styles.unallocatedHead}>
                <strong>
                  <Link href={c.href}>{c.campaignName ?? c.campaignId}</Link>
                </strong>
                <span className="muted">
                  {c.platformLabel} · <code>{c.campaignId}</code>
                </span>
              </div>
              <dl className={styles.facts}>
                <div>
                  <dt>Spend, 30 days</dt>
                  <dd>{money(c.spend30d)}</dd>
                </div>
                <div>
                  <dt>Last 7 days</dt>
                  <dd>
                    {money(c.spend7d)} ({money(Math.round((c.spend7d / 7) * 100) / 100)} a day)
                  </dd>
                </div>
                <div>
                  <dt>Suggested daily budget</dt>
                  <dd>{money(c.suggested)}</dd>
                </div>
                <div>
                  <dt>Last delivery</dt>
                  <dd>{formatCalendarDay(c.lastDay, style.locale)}</dd>
                </div>
              </dl>
              {canEdit ? (
                <details className={styles.add}>
                  <summary>Add an allocation</summary>
                  <ActionForm
                    className={styles.editor}
                    aria-label={`Add an allocation for ${c.campaignName ?? c.campaignId}`}
                    action={(fd) => {
                      setActive(key);
                      add(fd);
                    }}
                  >
                    <input type="hidden" name="_tenant" value={tenantId} />
                    <input type="hidden" name="platform" value={c.platform} />
                    <input type="hidden" name="campaignId" value={c.campaignId} />
                    <BudgetFields
                      idPrefix={idPrefix}
                      currency={style.currency}
                      errors={mine ? errors : undefined}
                      values={{ dailyBudget: c.suggested, minBudget: null, maxBudget: null, strategy: 'performance', targetRoas: null, targetCpa: null, status: 'active' }}
                    />
                    {mine && state && !state.ok ? <FormMessage state={state} /> : null}
                    <div className={styles.buttons}>
                      <SubmitButton pending={pending && mine} pendingLabel="Adding…">
                        Add allocation
                      </SubmitButton>
                    </div>
                  </ActionForm>
                </details>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
