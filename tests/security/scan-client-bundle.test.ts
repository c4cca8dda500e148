// scripts/scan-client-bundle.ts on planted files: each kind of secret is found
// in the file it was put in, a bundle that only names public things passes,
// and the command exits 1 naming the file without printing the secret.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentSecrets, scanFiles, servedFiles } from '../../scripts/scan-client-bundle';

const root = path.resolve(__dirname, '..', '..');
const AUTH_SECRET = 'kq3V9xZt7LmWp2RcYh8N4sDf6GjB1uEa';
// Quote and backslash: JSON writes it otherwise than it is.
const DB_PASSWORD = 'db-Pass"w\\ord/9?';
const ENV = {
  NODE_ENV: 'production',
  PORT: '3000',
  NEXTAUTH_URL: 'https://ads.example.com',
  NEXTAUTH_SECRET: AUTH_SECRET,
  DATABASE_URL: `postgres://aegis_app:${encodeURIComponent(DB_PASSWORD)}@db.internal:5432/aegis`,
  WEBHOOK_SIGNING_TOKEN: 'tok-4f1c9b2e7a',
};

// A build's chunk that names public things only: a variable read, a URL without a password, words about passwords.
const CLEAN = [
  'var u=(null!=(n=s.default.env.NEXTAUTH_URL)?n:s.default.env.VERCEL_URL);',
  'const docs="postgres://db.internal:5432/aegis";',
  'label:"Password",hint:"at least 12 characters",port:3000,mode:"production"',
].join('\n');

let dir: string;
let data: string;

function plant(name: string, text: string): string {
  const file = path.join(dir, 'static', 'chunks', name);
  writeFileSync(file, `${CLEAN}\n${text}\n`);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'aegis-scan-'));
  mkdirSync(path.join(dir, 'static', 'chunks'), { recursive: true });
  data = path.join(dir, 'data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'embedded.json'), JSON.stringify({ port: 54329, superPassword: 'super-Secret-123', appPassword: 'app-Secret-456', database: 'aegis' }));
  writeFileSync(path.join(data, 'auth-secret'), 'local-auth-secret-789\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the secrets of the environment', () => {
  it('are the secret variables, the password inside a URL variable, and the local files, never a public setting', () => {
    const secrets = environmentSecrets(ENV, { embeddedState: path.join(data, 'embedded.json'), authSecret: path.join(data, 'auth-secret') });
    expect(secrets.map((s) => s.name).sort()).toEqual(
      [
        'DATABASE_URL',
        'NEXTAUTH_SECRET',
        'WEBHOOK_SIGNING_TOKEN',
        'appPassword of embedded.json',
        'password in DATABASE_URL',
        'superPassword of embedded.json',
        'the local auth secret',
      ].sort(),
    );
    expect(secrets.find((s) => s.name === 'password in DATABASE_URL')?.value).toBe(DB_PASSWORD);
    expect(secrets.find((s) => s.name === 'the local auth secret')?.value).toBe('local-auth-secret-789');
  });
});

describe('a scan', () => {
  it('finds each kind of secret in the file that holds it, and nothing in a clean one', () => {
    const secrets = environmentSecrets(ENV, { embeddedState: path.join(data, 'embedded.json'), authSecret: path.join(data, 'auth-secret') });
    const planted: [string, string, string][] = [
      ['clean.js', '', ''],
      ['auth-secret.js', `const s="${AUTH_SECRET}";`, 'the value of NEXTAUTH_SECRET'],
      ['db-password-json.js', `const c=${JSON.stringify({ password: DB_PASSWORD })};`, 'the value of password in DATABASE_URL'],
      ['db-password-url.js', `fetch("/x?p=${encodeURIComponent(DB_PASSWORD)}")`, 'the value of password in DATABASE_URL'],
      ['token.js', 'h("tok-4f1c9b2e7a")', 'the value of WEBHOOK_SIGNING_TOKEN'],
      ['embedded.js', 'const p="app-Secret-456"', 'the value of appPassword of embedded.json'],
      ['local-secret.js', 'const k="local-auth-secret-789"', 'the value of the local auth secret'],
      ['other-postgres.js', 'const u="postgresql://owner:hunter2hunter2@10.1.2.3/prod"', 'a postgres URL with a password'],
      ['pem.js', 'const k="-----BEGIN RSA PRIVATE KEY-----\\nMIIE..."', 'a PEM private key'],
      ['column.js', 'select id, password_hash from users', 'the column name password_hash'],
      ['named.js', 'const env={"SMTP_URL":"smtp://mail.example.com"}', 'a server-only variable with a value'],
      ['named-assign.js', "AUTH_OIDC_CLIENT_SECRET='abc'", 'a server-only variable with a value'],
    ];
    const files = planted.map(([name, text]) => plant(name, text));
    const findings = scanFiles(files, secrets);
    for (const [name, , what] of planted) {
      const found = findings.filter((f) => path.basename(f.file) === name).map((f) => f.what);
      expect(found, name).toEqual(what ? [what] : []);
    }
  });

  it('walks every file under the served directories, nested ones included', () => {
    const nested = path.join(dir, 'static', 'media', 'deep');
    mkdirSync(nested, { recursive: true });
    writeFileSync(path.join(nested, 'logo.svg'), '<svg/>');
    expect(servedFiles([path.join(dir, 'static'), path.join(dir, 'missing')])).toContain(path.join(nested, 'logo.svg'));
  });
});

describe('the command', () => {
  function run(dirs: string[], env: Record<string, string>) {
    return spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['scripts/scan-client-bundle.ts', ...dirs.flatMap((d) => ['--dir', d]), '--data', data], {
      cwd: root,
      // Only these variables: the secrets the command finds are the test's, whatever the machine's environment holds.
      env: { PATH: process.env.PATH ?? '', ...env } as Record<string, string> as NodeJS.ProcessEnv,
      encoding: 'utf8',
    });
  }

  it('passes a clean bundle, saying what it checked', () => {
    const clean = mkdtempSync(path.join(os.tmpdir(), 'aegis-scan-clean-'));
    try {
      writeFileSync(path.join(clean, 'app.js'), CLEAN);
      const r = run([clean], ENV);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('scanned 1 files');
      expect(r.stdout).toContain('values of: NEXTAUTH_SECRET, DATABASE_URL, password in DATABASE_URL, WEBHOOK_SIGNING_TOKEN');
      expect(r.stdout).toContain('no secret found');
    } finally {
      rmSync(clean, { recursive: true, force: true });
    }
  });

  it('exits 1 naming the file and what was found, never printing the secret', () => {
    const leaky = mkdtempSync(path.join(os.tmpdir(), 'aegis-scan-leak-'));
    try {
      writeFileSync(path.join(leaky, 'ok.js'), CLEAN);
      writeFileSync(path.join(leaky, 'leak.js'), `${CLEAN}\nconst s="${AUTH_SECRET}";`);
      const r = run([leaky], ENV);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/SECRET in .*leak\.js: the value of NEXTAUTH_SECRET/);
      expect(r.stderr).not.toContain('ok.js');
      expect(`${r.stdout}${r.stderr}`).not.toContain(AUTH_SECRET);
    } finally {
      rmSync(leaky, { recursive: true, force: true });
    }
  });
});
