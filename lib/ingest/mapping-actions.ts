'use server';
// Saving a column mapping from the /imports page's mapping editor: buyers and
// admins, for the current tenant and the platform chosen, through the one
// action wrapper. The form sends one select per product field (map_<field>).
import { z } from 'zod';
import { tenantAction } from '@/lib/request/action';
import { fieldLabel } from './detect';
import { REQUIRED_FIELDS } from './headers';
import { MAX_HEADER_LENGTH, saveMapping } from './mapping';
import { CONTROL_CHARACTERS } from './values';
import { IMPORT_PLATFORMS, TARGET_FIELDS, type ColumnMapping, type ImportPlatform, type TargetField } from './types';

const column = z
  .string({ error: 'A column name is the text of one header.' })
  .trim()
  .max(MAX_HEADER_LENGTH, { error: `A column name has at most ${MAX_HEADER_LENGTH} characters.` })
  .refine((v) => !CONTROL_CHARACTERS.test(v), { error: 'A column name cannot hold control characters.' })
  // Stored in jsonb, which refuses a lone half of an emoji.
  .refine((v) => v.isWellFormed(), { error: 'A column name cannot hold a broken character (half of an emoji).' })
  .optional()
  .transform((v) => (v ? v : undefined));

const saveMappingSchema = z
  .object({
    platform: z.enum(IMPORT_PLATFORMS, { error: 'Choose the platform of the export.' }),
    ...(Object.fromEntries(TARGET_FIELDS.map((f) => [`map_${f}`, column])) as Record<`map_${TargetField}`, typeof column>),
  })
  .superRefine((v, ctx) => {
    const seen = new Map<string, TargetField>();
    for (const f of TARGET_FIELDS) {
      const c = v[`map_${f}`];
      if (!c) {
        if (REQUIRED_FIELDS.includes(f)) ctx.addIssue({ code: 'custom', path: [`map_${f}`], message: 'Choose the column that holds this field.' });
        continue;
      }
      const other = seen.get(c);
      if (other) ctx.addIssue({ code: 'custom', path: [`map_${f}`], message: `“${c}” already feeds ${fieldLabel(other)}: one column, one field.` });
      else seen.set(c, f);
    }
  });

export const saveMappingAction = tenantAction(
  saveMappingSchema,
  'buyer',
  async (trx, input, ctx) => {
    const mapping: ColumnMapping = {};
    for (const f of TARGET_FIELDS) {
      const c = input[`map_${f}`];
      if (c) mapping[f] = c;
    }
    await saveMapping(trx, ctx.tenant.tenantId, input.platform, mapping);
    return { message: 'Mapping saved.', data: { platform: input.platform as ImportPlatform, mapping } };
  },
  // The page shows no saved mapping outside the editor: nothing to re-render.
  { revalidate: false },
);
