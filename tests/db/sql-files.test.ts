// How the migrator reads a SQL file (readSqlFile): psql's `\ir` includes
// expanded relative to the including file, recursively and without cycles;
// every other psql backslash command refused with its file and line; the
// checksum follows the parts. No database needed.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dbDir, readSqlFile, sqlFiles } from '../../db/tools/migrate';
import { projectRoot } from '../../lib/db/config';

const root = mkdtempSync(path.join(os.tmpdir(), 'aegis-sql-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes files (path relative to a fresh folder: text) and returns the folder. */
let n = 0;
function files(tree: Record<string, string>): string {
  const dir = path.join(root, `t${n++}`);
  for (const [rel, text] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe('readSqlFile', () => {
  it('expands nested includes, each relative to the file that includes it', () => {
    const dir = files({
      'main.sql': 'BEGIN;\n\\ir parts/one.sql\nCOMMIT;\n',
      'parts/one.sql': 'SELECT 1;\n\\ir sub/two.sql\n  \\include_relative ../three.sql  \n',
      'parts/sub/two.sql': 'SELECT 2;',
      'three.sql': 'SELECT 3;\n',
    });
    expect(readSqlFile(path.join(dir, 'main.sql'))).toBe('BEGIN;\nSELECT 1;\nSELECT 2;\nSELECT 3;\nCOMMIT;\n');
    // From any current folder, and through a link to the folder (database/ -> db/).
    const link = path.join(root, `link${n++}`);
    symlinkSync(dir, link);
    expect(readSqlFile(path.join(link, 'main.sql'))).toBe(readSqlFile(path.join(dir, 'main.sql')));
  });

  it('returns a file without includes exactly as it is on disk (recorded checksums stay valid)', () => {
    const text = "-- a \\comment\nSELECT 'a\\b', E'c\\'d', \"e\\f\";\nDO $x$ BEGIN RAISE NOTICE '\\q'; END $x$;\n/* \\c /* nested \\g */ */ SELECT $1;\n";
    const dir = files({ 'plain.sql': text });
    expect(readSqlFile(path.join(dir, 'plain.sql'))).toBe(text);
  });

  it('expands the guide file into its parts, the same through database/', () => {
    const media = readSqlFile(path.join(dbDir, 'media_buying_deployment.sql'));
    expect(media).not.toMatch(/^\s*\\/m);
    expect(media).toContain('CREATE OR REPLACE FUNCTION ads_engine.generate_recommendations(p_tenant uuid, p_as_of date)');
    expect(media.indexOf("'MEDIA_START'")).toBeLessThan(media.indexOf('CREATE TABLE IF NOT EXISTS ads.metrics_daily'));
    expect(media.indexOf('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ads TO aegis_app')).toBeLessThan(media.indexOf("'MEDIA_COMPLETE'"));
    expect(readSqlFile(path.join(projectRoot, 'database', 'media_buying_deployment.sql'))).toBe(media);
  });

  it('refuses any other backslash command, naming the file and the line', () => {
    const dir = files({
      'main.sql': 'BEGIN;\n\\ir part.sql\nCOMMIT;\n',
      'part.sql': "SELECT 1;\n-- fine: \\set in a comment\n\\set ON_ERROR_STOP on\n",
      'inline.sql': 'SELECT 1\n  \\gset\n',
    });
    expect(() => readSqlFile(path.join(dir, 'main.sql'))).toThrow(/part\.sql:3: psql command \\set is not supported/);
    expect(() => readSqlFile(path.join(dir, 'inline.sql'))).toThrow(/inline\.sql:2: psql command \\gset is not supported/);
  });

  it('refuses an include inside an unfinished statement, a missing file and an included file that ends mid-statement', () => {
    const dir = files({
      'mid.sql': 'SELECT\n\\ir part.sql\n;\n',
      'missing.sql': 'SELECT 1;\n\\ir nowhere.sql\n',
      'open.sql': '\\ir tail.sql\nSELECT 2;\n',
      'tail.sql': 'SELECT 1\n',
      'part.sql': 'SELECT 1;\n',
    });
    expect(() => readSqlFile(path.join(dir, 'mid.sql'))).toThrow(/mid\.sql:2: \\ir must stand on its own line, after a complete statement/);
    expect(() => readSqlFile(path.join(dir, 'missing.sql'))).toThrow(/missing\.sql:2: cannot include .*nowhere\.sql: no such file/);
    expect(() => readSqlFile(path.join(dir, 'open.sql'))).toThrow(/tail\.sql: ends inside a statement/);
  });

  it('refuses include cycles', () => {
    const dir = files({ 'a.sql': '\\ir sub/b.sql\n', 'sub/b.sql': '\\ir ../a.sql\n', 'self.sql': '\\ir self.sql\n' });
    expect(() => readSqlFile(path.join(dir, 'a.sql'))).toThrow(/include cycle: .*a\.sql -> .*b\.sql -> .*a\.sql/);
    expect(() => readSqlFile(path.join(dir, 'self.sql'))).toThrow(/include cycle/);
  });

  it('gives a master file a new checksum when one of its parts changes', () => {
    const dir = files({
      'deploy.sql': 'SELECT 1;\n',
      'media_buying_deployment.sql': 'BEGIN;\n\\ir media_buying/010_part.sql\nCOMMIT;\n',
      'media_buying/010_part.sql': 'SELECT 2;\n',
      'migrations/001_x.sql': 'SELECT 3;\n',
    });
    const checksum = () => sqlFiles(dir).find((f) => f.name === 'media_buying_deployment.sql')!.checksum;
    const before = checksum();
    writeFileSync(path.join(dir, 'media_buying', '010_part.sql'), 'SELECT 2; -- changed\n');
    expect(checksum()).not.toBe(before);
    expect(sqlFiles(dir).map((f) => [f.name, f.frozen])).toEqual([
      ['deploy.sql', false],
      ['media_buying_deployment.sql', false],
      ['migrations/001_x.sql', true],
    ]);
  });
});
