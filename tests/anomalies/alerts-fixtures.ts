// Shared by the alert suites: a receiving webhook server on loopback (node:http,
// every request kept with its exact raw body), channel creation through the
// real action handler, and anomalies written as the owner.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import type { ActionResult } from '../../lib/request/result';
import type { Db } from '../../lib/db/pool';
import { saveChannelHandler, type SavedChannel } from '../../lib/alerts/mutations';
import { channelSchema } from '../../lib/alerts/schema';
import { ALLOW_PRIVATE_ENV, WEBHOOK_MAX_RESPONSE_BYTES, type WebhookPolicy } from '../../lib/alerts/policy';
import { inTenant } from '../helpers/db';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** What the next requests get (default 200 "ok"). */
  respond: (req: Received, res: http.ServerResponse) => void;
  close: () => Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const state: Receiver = {
    url: '',
    port: 0,
    received,
    respond: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      state.respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

/** The development allowance on (http://127.0.0.1 receivers), as the tests' policy. */
export const DEV_POLICY: WebhookPolicy = { allowPrivate: true, timeoutMs: 2_000, maxResponseBytes: WEBHOOK_MAX_RESPONSE_BYTES };
export const STRICT_POLICY: WebhookPolicy = { ...DEV_POLICY, allowPrivate: false };

export function allowPrivateUrls(on: boolean): void {
  if (on) process.env[ALLOW_PRIVATE_ENV] = '1';
  else delete process.env[ALLOW_PRIVATE_ENV];
}

export function saveChannel(db: Db, userId: string, input: Record<string, unknown>): Promise<ActionResult<SavedChannel>> {
  return runTenantAction({
    schema: channelSchema,
    minRole: 'admin',
    handler: saveChannelHandler as ActionHandler<typeof channelSchema, SavedChannel>,
    userId,
    preferredTenantId: null,
    input,
    db,
  });
}

export const ALL_TYPES = ['spike', 'drop', 'tracking_loss', 'trend_change', 'outlier'];

let entity = 0;

export interface NewAnomaly {
  severity?: string;
  type?: string;
  status?: string;
  createdAt?: Date;
  money?: number;
}

/** One anomaly for the tenant, written as the owner (committed); returns its id. */
export async function insertAnomaly(owner: pg.Pool, tenant: string, a: NewAnomaly = {}): Promise<string> {
  const n = ++entity;
  return inTenant(owner, tenant, async (c) => {
    const r = await c.query<{ id: string }>(
      `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                  baseline_value, actual_value, deviation_percent, money_at_stake, severity, status, created_at)
       values ($1, 'meta', 'campaign', $2, $3, $2, current_date - 1, 'cpa', $4, 100, 150, 50, $5, $6, $7, coalesce($8, now()))
       returning id`,
      [tenant, `cmp-${n}`, `Campaign ${n} <b>&</b>`, a.type ?? 'spike', a.money ?? 250, a.severity ?? 'critical', a.status ?? 'active', a.createdAt ?? null],
    );
    return r.rows[0]!.id;
  });
}

export async function deliveries(owner: pg.Pool, tenant: string, channel: string) {
  return inTenant(owner, tenant, async (c) =>
    (
      await c.query<{
        id: string;
        kind: string;
        status: string;
        attempts: number;
        response_code: number | null;
        last_error: string | null;
        next_attempt_at: Date | null;
        history: { attempt: number; at: string; code: number | null; next_attempt_at: string | null }[];
        anomaly_count: number;
        digest_day: string | null;
      }>(
        `select id, kind, status, attempts, response_code, last_error, next_attempt_at, history, anomaly_count, to_char(digest_day, 'YYYY-MM-DD') as digest_day
         from ads_engine.alert_deliveries where tenant_id = $1 and channel_id = $2 order by created_at, id`,
        [tenant, channel],
      )
    ).rows,
  );
}
