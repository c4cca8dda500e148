// The board's cards and columns as the pages hand them to the client
// components: plain, serialisable data. Shared by server and client code.
import type { AnomalyStatus } from './schema';

export interface CardAnomaly {
  id: string;
  platform: string;
  level: string;
  entityName: string;
  href: string | null;
  day: string;
  metric: string;
  type: string;
  baseline: number | null;
  actual: number | null;
  deviationPct: number | null;
  money: number | null;
  severity: string;
  status: AnomalyStatus;
  ageSeconds: number;
  resolvedAt: string | null;
  resolutionNote: string | null;
  snoozedUntil: string | null;
  platformRow: boolean;
  engineMembers: string[];
  /** The feedback of its kind, in words, or null. */
  feedback: string | null;
  /** Where its detail opens on the board. */
  detailHref: string;
}

export type CardView =
  | { kind: 'single'; key: string; anomaly: CardAnomaly }
  | {
      kind: 'incident';
      key: string;
      incident: string;
      platform: string;
      level: string;
      day: string;
      severity: string;
      money: number;
      entities: number;
      activeEntities: number;
      status: AnomalyStatus;
      members: CardAnomaly[];
    };

export interface ColumnView {
  status: AnomalyStatus;
  count: number;
  snoozed: number;
  cards: CardView[];
  hiddenCards: number;
  moreHref: string | null;
  /** Where the snoozed cards are shown (Active only), or null. */
  snoozedHref: string | null;
  emptyText: string;
}

