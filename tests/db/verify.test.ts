// npm run db:verify: the guide's validation checks as a report.
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { dbDir, readSqlFile } from '../../db/tools/migrate';
import { formatReport, verify } from '../../db/tools/verify';
import { runSql, scratchDatabase } from '../helpers/db';

describe('verify', () => {
  it('passes every check on a fully migrated database', async () => {
    const checks = await verify(inject('ownerUrl'));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'ads tables',
      'core tables',
      'ads functions',
      'ads indexes',
      'row-level security',
      'app role',
      'deployment log',
    ]);
    expect(formatReport(checks)).toMatch(/all checks passed$/);
  });

  it('names what is missing when only the core is deployed', async () => {
    const url = await scratchDatabase('verify');
    await runSql(url, readSqlFile(path.join(dbDir, 'deploy.sql')));
    const checks = await verify(url);
    const failed = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
    expect(Object.keys(failed)).toEqual(['ads tables', 'ads functions', 'ads indexes', 'deployment log']);
    expect(failed['ads tables']).toContain('metrics_daily');
    expect(failed['ads functions']).toContain('compute_baselines');
    expect(failed['ads indexes']).toContain('idx_anomalies_active');
    expect(failed['deployment log']).toContain('MEDIA_COMPLETE missing');
    expect(formatReport(checks)).toMatch(/4 check\(s\) failed$/);
  });

  it('reports a row-level security gap', async () => {
    const url = await scratchDatabase('verifyrls');
    await runSql(url, readSqlFile(path.join(dbDir, 'deploy.sql')));
    await runSql(url, readSqlFile(path.join(dbDir, 'media_buying_deployment.sql')));
    await runSql(url, 'alter table ads.anomalies no force row level security');
    const rls = (await verify(url)).find((c) => c.name === 'row-level security');
    expect(rls).toMatchObject({ ok: false, detail: expect.stringContaining('ads.anomalies') });
  });
});
