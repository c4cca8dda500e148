// What an alert channel may hold, shared by the settings form and the server
// actions, and the constants of delivery (retries, caps). Every message names
// its field. Limits match ads_engine.alert_channels' checks
// (db/migrations/012_alert_channels.sql).
import { z } from 'zod';
import { webhookPolicy, webhookUrlProblem } from './policy';
import { cutText } from './text';

export * from './constants';
import { CHANNEL_NAME_MAX, MAX_ADDRESSES, MAX_MEMBERS, ANOMALY_TYPES, SEVERITIES, CHANNEL_KINDS, MODES } from './constants';

/** A form field that may come once (a string), several times (an array) or not at all. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]), z.array(item));

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());

const uuid = (label: string) => z.uuid({ error: `${label}: not a valid id.` });

const name = z
  .string({ error: 'Name: enter a name.' })
  .trim()
  .min(1, { error: 'Name: enter a name, like "Buyers on call".' })
  .max(CHANNEL_NAME_MAX, { error: `Name: keep it under ${CHANNEL_NAME_MAX} characters.` })
  .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'Name: must be a single line.' })
  // A lone UTF-16 surrogate (half an emoji) cannot be stored in the audit log's JSON.
  .refine((v) => v.isWellFormed(), { error: 'Name: contains a broken character (half of an emoji); type it again.' });

/** Addresses typed in a text box: separated by commas, semicolons, spaces or line breaks. */
const addresses = z
  .preprocess(
    (v) => {
      const text = Array.isArray(v) ? v.join('\n') : typeof v === 'string' ? v : '';
      return text.split(/[\s,;]+/).map((a) => a.trim().toLowerCase()).filter(Boolean);
    },
    z.array(z.string()),
  )
  .superRefine((list, ctx) => {
    if (list.length > MAX_ADDRESSES) ctx.addIssue({ code: 'custom', message: `Email addresses: at most ${MAX_ADDRESSES} (there are ${list.length}).` });
    for (const a of list) {
      if (a.length > 320 || !z.email().safeParse(a).success) {
        ctx.addIssue({ code: 'custom', message: `Email addresses: "${cutText(a, 60)}" is not a valid email address.` });
        break;
      }
    }
  })
  .transform((list) => [...new Set(list)]);

const severities = list(z.enum(SEVERITIES, { error: 'Severities: choose among low, medium, high and critical.' })).pipe(
  z.array(z.enum(SEVERITIES)).min(1, { error: 'Severities: choose at least one.' }),
);
const types = list(z.enum(ANOMALY_TYPES, { error: 'Anomaly types: choose among the listed types.' })).pipe(
  z.array(z.enum(ANOMALY_TYPES)).min(1, { error: 'Anomaly types: choose at least one.' }),
);

const digestHour = z.preprocess(
  (v) => (v === undefined || v === null || v === '' ? null : typeof v === 'string' ? Number(v.trim()) : v),
  z
    .number({ error: 'Digest hour: a whole hour from 0 to 23.' })
    .int({ error: 'Digest hour: a whole hour from 0 to 23.' })
    .min(0, { error: 'Digest hour: a whole hour from 0 to 23.' })
    .max(23, { error: 'Digest hour: a whole hour from 0 to 23.' })
    .nullable(),
);

/** Create (no id) or edit (id) a channel. On edit, a blank URL keeps the current one. */
export const channelSchema = z
  .object({
    id: z.preprocess((v) => (v === '' ? undefined : v), uuid('Channel').optional()),
    name,
    kind: z.enum(CHANNEL_KINDS, { error: 'Kind: choose email or webhook.' }),
    url: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v ?? ''), z.string({ error: 'Webhook URL: enter a URL.' })),
    addresses,
    members: list(uuid('Members')).pipe(z.array(z.string()).max(MAX_MEMBERS, { error: `Members: at most ${MAX_MEMBERS}.` })),
    severities,
    types,
    mode: z.enum(MODES, { error: 'Delivery: choose immediate or a daily digest.' }),
    digestHour,
    enabled: checkbox.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'webhook') {
      if (v.url === '' && !v.id) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Webhook URL: enter the URL to post to, like https://hooks.example.com/aegis.' });
      if (v.url !== '') {
        const problem = webhookUrlProblem(v.url, webhookPolicy().allowPrivate);
        if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: `Webhook URL: ${problem}` });
      }
    } else if (v.addresses.length + v.members.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['addresses'], message: 'Recipients: choose at least one member or enter an email address.' });
    }
    if (v.mode === 'digest' && v.digestHour === null) {
      ctx.addIssue({ code: 'custom', path: ['digestHour'], message: 'Digest hour: choose the hour the digest goes out (0 to 23).' });
    }
  })
  .transform((v) => ({
    ...v,
    url: v.kind === 'webhook' && v.url !== '' ? v.url : null,
    addresses: v.kind === 'email' ? v.addresses : [],
    members: v.kind === 'email' ? [...new Set(v.members)] : [],
    severities: SEVERITIES.filter((s) => v.severities.includes(s)),
    types: ANOMALY_TYPES.filter((t) => v.types.includes(t)),
    digestHour: v.mode === 'digest' ? v.digestHour : null,
    enabled: v.enabled ?? true,
  }));

export type ChannelInput = z.output<typeof channelSchema>;

export const channelIdSchema = z.object({ id: uuid('Channel') });

export const channelEnabledSchema = z.object({
  id: uuid('Channel'),
  enabled: z.enum(['true', 'false'], { error: 'Enabled: must be true or false.' }).transform((v) => v === 'true'),
});
