// Input of auto-apply: the undo of one automatic change, and one platform's
// settings form (the guide's switch, then each type the product can apply by
// itself, with a step limit for budget changes). Shared by forms and actions.
import { z } from 'zod';
import { PLATFORMS } from '@/lib/performance/metrics';

/** The changes the product makes itself; bids, creatives, audiences and timing are changed on the platform. */
export const AUTO_APPLY_TYPES = ['budget_increase', 'budget_decrease', 'pause'] as const;
export type AutoApplyType = (typeof AUTO_APPLY_TYPES)[number];
export const BUDGET_AUTO_TYPES = ['budget_increase', 'budget_decrease'] as const;

export const undoSchema = z.object({
  id: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.uuid({ error: 'Change: not a recommendation id.' })),
});

// A checkbox sends 'on' when ticked and nothing otherwise.
const checkbox = z.preprocess((v) => v === 'on' || v === 'true' || v === true, z.boolean());

const LABEL: Readonly<Record<AutoApplyType, string>> = {
  budget_increase: 'Budget increases',
  budget_decrease: 'Budget decreases',
  pause: 'Pauses',
};

/** A step limit typed as a percentage: 1 to 100, at most one decimal; blank is "no limit" (100 %). */
const stepPercent = (type: AutoApplyType) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().replace(',', '.').replace(/\s*%$/, '')) : v),
    z.coerce
      .number({ error: `${LABEL[type]} step: a percentage from 1 to 100.` })
      .refine((n) => Number.isFinite(n) && n >= 1 && n <= 100, { error: `${LABEL[type]} step: a percentage from 1 to 100.` })
      .refine((n) => Math.abs(n * 10 - Math.round(n * 10)) < 1e-9, { error: `${LABEL[type]} step: at most one decimal.` })
      .optional(),
  );

export const autoApplySettingsSchema = z
  .object({
    platform: z.enum(PLATFORMS, { error: 'Platform: not a platform.' }),
    switchedOn: checkbox,
    confirm: checkbox,
    budget_increase_enabled: checkbox,
    budget_increase_step: stepPercent('budget_increase'),
    budget_decrease_enabled: checkbox,
    budget_decrease_step: stepPercent('budget_decrease'),
    pause_enabled: checkbox,
  })
  .transform((v) => ({
    platform: v.platform,
    switchedOn: v.switchedOn,
    confirm: v.confirm,
    types: {
      // stored as a fraction with three decimals (0.2 = 20 %), as the engine reads it
      budget_increase: { enabled: v.budget_increase_enabled, maxStep: Math.round((v.budget_increase_step ?? 100) * 10) / 1000 },
      budget_decrease: { enabled: v.budget_decrease_enabled, maxStep: Math.round((v.budget_decrease_step ?? 100) * 10) / 1000 },
      pause: { enabled: v.pause_enabled, maxStep: null },
    } satisfies Record<AutoApplyType, { enabled: boolean; maxStep: number | null }>,
  }));
export type AutoApplySettings = z.output<typeof autoApplySettingsSchema>;
