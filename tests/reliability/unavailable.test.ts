// Telling "the database is away" from any other failure (lib/db/unavailable.ts),
// on the errors node-postgres really produces (a refused connection, a
// terminated backend, a server shutting down) and on hand-made ones; and what
// the error boundaries render for each.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import RootError from '../../app/error';
import SectionError from '../../app/(app)/error';
import {
  DATABASE_UNAVAILABLE_DIGEST,
  DATABASE_UNAVAILABLE_PAGE,
  isDatabaseUnavailable,
  isDatabaseUnavailableDigest,
  markDatabaseUnavailable,
} from '../../lib/db/unavailable';
import { freePort } from '../../db/tools/embedded';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('connection failures: class 08, shutdown and start-up states, socket errors, the driver’s own messages, wrapped or aggregated', () => {
    for (const code of ['08000', '08001', '08003', '08004', '08006', '08P01', '57P01', '57P02', '57P03', '57P05', '53300']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Client has encountered a connection error and is not queryable',
      'timeout exceeded when trying to connect',
    ]) {
      expect(isDatabaseUnavailable(new Error(message)), message).toBe(true);
    }
    expect(isDatabaseUnavailable(new Error('query failed', { cause: withCode('57P01') }))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed'))).toBe(true);
  });

  it('anything else is not: query and data faults, wrong credentials, a missing database, timeouts of a statement, odd values', () => {
    for (const code of ['23505', '23514', '42P01', '42501', '28P01', '3D000', '57014', '40001', '40P01', '25P02', '22P02', 'ENOENT', '08']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(false);
    }
    for (const v of [null, undefined, 0, '', 'ECONNREFUSED', new Error('Connection terminated'), new Error('boom'), { code: 57 }, []]) {
      expect(isDatabaseUnavailable(v), String(v)).toBe(false);
    }
    // Some of an aggregate only: another cause is in it.
    expect(isDatabaseUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ENOENT')]))).toBe(false);
    // A cycle of causes ends.
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isDatabaseUnavailable(a)).toBe(false);
  });

  it('on real errors of node-postgres: a port nobody listens on, a terminated backend, a database that does not exist', async () => {
    const port = await freePort();
    const refused = new pg.Client({ connectionString: `postgres://aegis_app:x@127.0.0.1:${port}/aegis` });
    const err1 = await refused.connect().then(() => null, (e: unknown) => e);
    expect(err1).not.toBeNull();
    expect(isDatabaseUnavailable(err1)).toBe(true);

    const victim = new pg.Client({ connectionString: inject('appUrl') });
    victim.on('error', () => undefined);
    await victim.connect();
    const pid = (await victim.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const killer = new pg.Client({ connectionString: inject('ownerUrl') });
    await killer.connect();
    const running = victim.query('select pg_sleep(30)');
    await new Promise((r) => setTimeout(r, 200));
    await killer.query('select pg_terminate_backend($1)', [pid]);
    const err2 = await running.then(() => null, (e: unknown) => e);
    expect((err2 as { code?: string }).code).toBe('57P01');
    expect(isDatabaseUnavailable(err2)).toBe(true);
    // the same client afterwards
    const err3 = await victim.query('select 1').then(() => null, (e: unknown) => e);
    expect(isDatabaseUnavailable(err3)).toBe(true);

    // A database that does not exist (a wrong password would pass on a server with trust authentication).
    const wrong = new URL(inject('appUrl'));
    wrong.pathname = '/aegis_no_such_database';
    const denied = new pg.Client({ connectionString: wrong.toString() });
    const err4 = await denied.connect().then(() => null, (e: unknown) => e);
    expect((err4 as { code?: string }).code).toBe('3D000');
    expect(isDatabaseUnavailable(err4)).toBe(false);
    await killer.end();
  });
});

describe('the digest the error boundaries read', () => {
  it('is set on unavailability only, in place', () => {
    const e = withCode('57P01');
    expect(markDatabaseUnavailable(e)).toBe(e);
    expect((e as { digest?: string }).digest).toBe(DATABASE_UNAVAILABLE_DIGEST);
    const other = withCode('23505');
    markDatabaseUnavailable(other);
    expect((other as { digest?: string }).digest).toBeUndefined();
    expect(isDatabaseUnavailableDigest(DATABASE_UNAVAILABLE_DIGEST)).toBe(true);
    expect(isDatabaseUnavailableDigest('123456')).toBe(false);
    expect(isDatabaseUnavailableDigest(undefined)).toBe(false);
  });

  it('both boundaries: "temporarily unavailable" with a retry for that digest; the usual panel with its reference otherwise', () => {
    // As the browser gets a server error in production: a generic message and the digest.
    const away = Object.assign(new Error('An error occurred in the Server Components render.'), { digest: DATABASE_UNAVAILABLE_DIGEST });
    const bug = Object.assign(new Error('An error occurred in the Server Components render.'), { digest: '2841063211' });
    const noop = () => undefined;
    for (const Boundary of [RootError, SectionError]) {
      const a = renderToStaticMarkup(createElement(Boundary, { error: away, reset: noop, retry: noop }));
      expect(a).toContain('Temporarily unavailable');
      expect(a).toContain(DATABASE_UNAVAILABLE_PAGE);
      expect(a).toContain('>Try again</button>');
      expect(a).not.toContain(DATABASE_UNAVAILABLE_DIGEST);
      expect(a).not.toContain('Something went wrong');
      const b = renderToStaticMarkup(createElement(Boundary, { error: bug, reset: noop, retry: noop }));
      expect(b).toContain('Something went wrong');
      expect(b).toContain('2841063211');
      expect(b).not.toContain('Temporarily unavailable');
    }
  });
});
