'use client';
// The move menu of one anomaly (or its incident) in the detail view, with its
// own action state: the answer shows above it.
import { useActionState } from 'react';
import { FormMessage } from '@/components/ui/FormMessage';
import { moveAnomaliesAction } from '@/lib/anomalies/actions';
import type { CardView } from '@/lib/anomalies/view';
import { MoveMenu } from './AnomalyBoard';

export function DetailMoves({ card, tenantId, canMove }: { card: CardView; tenantId: string; canMove: boolean }) {
  const [state, formAction, pending] = useActionState(moveAnomaliesAction, null);
  const problems = state && !state.ok ? Object.values(state.fieldErrors ?? {}).flatMap((v) => v ?? []) : [];
  return (
    <div>
      <FormMessage state={state} />
      {problems.length ? (
        <ul className="notice notice-error" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      {!canMove ? <p className="muted">Viewers see the workflow; buyers and admins move anomalies.</p> : null}
      <MoveMenu card={card} formAction={formAction} tenantId={tenantId} disabled={!canMove || pending} open />
    </div>
  );
}
