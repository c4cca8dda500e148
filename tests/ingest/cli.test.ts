// npm run import, spawned as a user runs it (tsx scripts/import.ts) against
// the test database as the app role (DATABASE_URL): what it prints per file,
// and its exit code: 0 when every file is stored (a repeat that changes
// nothing included), 1 when one is refused (invalid rows without
// --skip-invalid, another currency, an unreadable file), 2 on a usage error.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../lib/db/config';
import { createTenant, ownerPool } from '../helpers/db';
import { bytesOf, expectedByDay, googleExport, makeRows, metaExport, storedByDay, tenantYesterday } from './fixtures';

const owner = ownerPool();
const dir = mkdtempSync(path.join(os.tmpdir(), 'aegis-import-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: inject('appUrl') };
  delete env.DATABASE_OWNER_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(projectRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(projectRoot, 'scripts', 'import.ts'), ...args],
      { cwd: projectRoot, env, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

describe('npm run import', () => {
  it('imports each file, prints what it found and did, and exits 0; a repeat changes nothing and exits 0', async () => {
    const tenant = await createTenant(owner, 'CLI', 'EUR');
    const last = await tenantYesterday(owner, tenant);
    const meta = makeRows({ campaigns: 3, days: 4, lastDay: last, seed: 71 });
    const google = makeRows({ campaigns: 2, days: 4, lastDay: last, seed: 72, idDigits: 10, fractional: true });
    const a = file('meta.csv', bytesOf(metaExport(meta)));
    const b = file('google.csv', bytesOf(googleExport(google, { tabs: true }), 'utf-16le'));
    const first = await run(['--tenant', tenant, a, b]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`${a}: Meta (meta), campaigns, comma-separated UTF-8, EUR`);
    expect(first.out).toContain('  rows read 12, inserted 12, updated 0, unchanged 0, rejected 0, skipped 1');
    expect(first.out).toContain(`${b}: Google Ads (google-utf16), campaigns, tab-separated UTF-16LE, 2 lines before the header`);
    expect(first.out).toContain('  rows read 8, inserted 8, updated 0, unchanged 0, rejected 0, skipped 2');
    expect(first.out).toContain('2 file(s): 2 imported, 0 refused or failed');
    expect(await storedByDay(owner, tenant, "platform = 'meta'")).toEqual(expectedByDay(meta));
    expect(await storedByDay(owner, tenant, "platform = 'google'")).toEqual(expectedByDay(google));

    const repeat = await run(['--tenant', tenant, '--platform', 'meta', a]);
    expect(repeat.code).toBe(0);
    expect(repeat.out).toContain('  rows read 12, inserted 0, updated 0, unchanged 12, rejected 0, skipped 1');
  });

  it('a file with invalid rows: each listed (row, column, reason) and exit 1; with --skip-invalid the others are stored, exit 0', async () => {
    const tenant = await createTenant(owner, 'CLI, invalid rows', 'EUR');
    const last = await tenantYesterday(owner, tenant);
    const rows = makeRows({ campaigns: 2, days: 3, lastDay: last, seed: 73 });
    const lines = metaExport(rows).split('\n');
    const cells = lines[3]!.split(',');
    cells[5] = '-4.00';
    lines[3] = cells.join(',');
    const f = file('bad.csv', bytesOf(lines.join('\n')));
    const refused = await run(['--tenant', tenant, f]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('  problems (1):');
    expect(refused.out).toContain('    row 4, Amount spent (EUR): “-4.00” is negative: figures are 0 or more.');
    expect(refused.out).toContain('  refused: 1 row of 6 rows has problems: nothing was imported.');
    const skipped = await run(['--tenant', tenant, '--skip-invalid', f]);
    expect(skipped.code).toBe(0);
    expect(skipped.out).toContain('  rows read 6, inserted 5, updated 0, unchanged 0, rejected 1, skipped 1');
  });

  it('another currency, an unreadable file, a missing file: exit 1, the other files still imported', async () => {
    const tenant = await createTenant(owner, 'CLI, refusals', 'EUR');
    const last = await tenantYesterday(owner, tenant);
    const rows = makeRows({ campaigns: 1, days: 2, lastDay: last, seed: 74 });
    const usd = file('usd.csv', bytesOf(metaExport(rows, { currency: 'USD' })));
    const junk = file('junk.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0xff, 0xfe, 0x00]));
    const good = file('good.csv', bytesOf(metaExport(rows)));
    const r = await run(['--tenant', tenant, usd, junk, path.join(dir, 'nowhere.csv'), good]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/usd\.csv: Meta \(meta\).*\n.*\n  refused: The export is in USD/);
    expect(r.out).toMatch(/junk\.csv: format not recognised\n.*\n  refused: /);
    expect(r.out).toContain('nowhere.csv: cannot be read');
    expect(r.out).toContain('  rows read 2, inserted 2');
    expect(r.out).toContain('4 file(s): 1 imported, 3 refused or failed');
  });

  it('a French export saved in Windows-1252: read as such, its names stored exactly, exit 0', async () => {
    const tenant = await createTenant(owner, 'CLI, Windows-1252', 'EUR');
    const last = await tenantYesterday(owner, tenant);
    const rows = makeRows({ campaigns: 2, days: 3, lastDay: last, seed: 75 }).map((r) => ({ ...r, campaignName: `Cœur d’été € ${r.campaignId.slice(-2)}` }));
    const f = file('fr-1252.csv', bytesOf(metaExport(rows, { lang: 'fr' }), 'windows-1252'));
    const r = await run(['--tenant', tenant, f]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${f}: Meta (meta-fr), campaigns, semicolon-separated WINDOWS-1252, EUR`);
    expect(r.out).toContain('  rows read 6, inserted 6, updated 0, unchanged 0, rejected 0, skipped 1');
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(rows));
    const names = await owner.query('select distinct campaign_name from ads.metrics_daily where tenant_id = $1 order by 1', [tenant]);
    expect(names.rows.map((x) => x.campaign_name)).toEqual([...new Set(rows.map((x) => x.campaignName))].sort());
  });

  it('usage errors exit 2; a tenant that does not exist exits 1', async () => {
    const none = await run(['--tenant', 'not-a-uuid', 'x.csv']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('--tenant: "not-a-uuid" is not a uuid');
    const noFile = await run(['--tenant', '00000000-0000-4000-8000-00000000dead']);
    expect(noFile.code).toBe(2);
    const f = file('any.csv', bytesOf('Day,Campaign ID\n'));
    const missing = await run(['--tenant', '00000000-0000-4000-8000-00000000dead', f]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('does not exist');
  });
});
