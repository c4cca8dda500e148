// npx tsx scripts/scan-client-bundle.ts [--dir DIR]... [--data DIR]
// After `next build`: looks through every file a browser can be served (the
// build's .next/static, prerendered pages under .next/server, public/) for a
// secret: the value of a secret of this environment (the auth secrets, the
// database and mail URLs and their passwords, the embedded server's
// passwords in .data/embedded.json, the local auth secret), a postgres URL
// with a password, a PEM private key, `password_hash`, or the name of a
// server-only variable with a value next to it. Prints what it checked, and
// exits 1 naming the file of each find (never the secret itself).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Variables that only the server may know; their names next to a value are a leak even when the value is not this machine's. */
export const SERVER_ONLY_VARS = ['NEXTAUTH_SECRET', 'AUTH_SECRET', 'AUTH_OIDC_CLIENT_SECRET', 'DATABASE_URL', 'DATABASE_OWNER_URL', 'SMTP_URL', 'PGPASSWORD'];

/** Other variables whose value is a secret, by name. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIALS?)$/;

/** Shorter values (ports, "postgres", "true") would be found in any bundle. */
const MIN_SECRET_LENGTH = 8;

export interface Secret {
  /** Where the value comes from, e.g. "NEXTAUTH_SECRET" or "password in DATABASE_URL". */
  name: string;
  value: string;
}

export interface Finding {
  file: string;
  what: string;
}

const PATTERNS: { what: string; re: RegExp }[] = [
  { what: 'a postgres URL with a password', re: /postgres(?:ql)?:\/\/[^\s:@/"'`]*:[^\s@/"'`]+@/i },
  { what: 'a PEM private key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { what: 'the column name password_hash', re: /password_hash/i },
  {
    what: 'a server-only variable with a value',
    re: new RegExp(`\\b(?:${SERVER_ONLY_VARS.join('|')})\\b["'\`]?\\s*[:=,]\\s*["'\`][^"'\`\\s]+`),
  },
];

/** The password of a URL with credentials (postgres://, smtp://, ...), if any. */
function urlPassword(value: string): string | null {
  try {
    const url = new URL(value);
    return url.password ? decodeURIComponent(url.password) : null;
  } catch {
    return null;
  }
}

/** The secrets of this environment: secret variables, the passwords in URL variables, and the local files that hold secrets. */
export function environmentSecrets(env: Readonly<Record<string, string | undefined>>, files: { embeddedState?: string; authSecret?: string } = {}): Secret[] {
  const out: Secret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SERVER_ONLY_VARS.includes(name) || SECRET_NAME.test(name)) out.push({ name, value });
    const password = urlPassword(value);
    if (password) out.push({ name: `password in ${name}`, value: password });
  }
  if (files.embeddedState && existsSync(files.embeddedState)) {
    const state = JSON.parse(readFileSync(files.embeddedState, 'utf8')) as Record<string, unknown>;
    for (const key of ['superPassword', 'appPassword']) {
      const v = state[key];
      if (typeof v === 'string') out.push({ name: `${key} of ${path.basename(files.embeddedState)}`, value: v });
    }
  }
  if (files.authSecret && existsSync(files.authSecret)) out.push({ name: 'the local auth secret', value: readFileSync(files.authSecret, 'utf8').trim() });
  return out.filter((s) => s.value.length >= MIN_SECRET_LENGTH);
}

/** Files a browser can be served, under the given directories (missing ones are skipped). */
export function servedFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else if (st.isFile()) out.push(p);
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return out;
}

/** Every find in these files. A secret is also looked for as it would be written in JSON or a URL. */
export function scanFiles(files: string[], secrets: Secret[]): Finding[] {
  const forms = secrets.flatMap((s) => [...new Set([s.value, JSON.stringify(s.value).slice(1, -1), encodeURIComponent(s.value)])].map((f) => ({ name: s.name, form: f })));
  const findings: Finding[] = [];
  for (const file of files) {
    const text = readFileSync(file).toString('utf8');
    for (const { name, form } of forms) if (text.includes(form)) findings.push({ file, what: `the value of ${name}` });
    for (const { what, re } of PATTERNS) if (re.test(text)) findings.push({ file, what });
  }
  return [...new Map(findings.map((f) => [`${f.file}\0${f.what}`, f])).values()];
}

/** Prerendered pages (.html, RSC payloads, route bodies) are served as they are; the rest of .next/server is not served. */
function prerendered(root: string): string[] {
  return servedFiles([path.join(root, '.next', 'server', 'app'), path.join(root, '.next', 'server', 'pages')]).filter((f) => /\.(html|rsc|body)$/.test(f));
}

export function main(argv: string[], root = process.cwd()): number {
  const dirs: string[] = [];
  let data = path.join(root, '.data');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if ((a === '--dir' || a === '--data') && v) {
      if (a === '--dir') dirs.push(path.resolve(v));
      else data = path.resolve(v);
      i++;
    } else {
      console.error(`unknown argument ${a}\nusage: npx tsx scripts/scan-client-bundle.ts [--dir DIR]... [--data DIR]`);
      return 2;
    }
  }
  let files: string[];
  if (dirs.length > 0) {
    files = servedFiles(dirs);
  } else {
    if (!existsSync(path.join(root, '.next', 'BUILD_ID'))) {
      console.error('no production build in .next: run `npm run build` first');
      return 2;
    }
    files = [...servedFiles([path.join(root, '.next', 'static'), path.join(root, 'public')]), ...prerendered(root)];
  }
  const secrets = environmentSecrets(process.env, { embeddedState: path.join(data, 'embedded.json'), authSecret: path.join(data, 'auth-secret') });
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  console.log(`scanned ${files.length} files (${(bytes / 1024 / 1024).toFixed(1)} MiB) served to browsers`);
  console.log(`  values of: ${secrets.length ? [...new Set(secrets.map((s) => s.name))].join(', ') : 'none set in this environment'}`);
  console.log(`  patterns: ${PATTERNS.map((p) => p.what).join('; ')} (${SERVER_ONLY_VARS.join(', ')})`);
  const findings = scanFiles(files, secrets);
  if (findings.length === 0) {
    console.log('no secret found');
    return 0;
  }
  for (const f of findings) console.error(`SECRET in ${path.relative(root, f.file)}: ${f.what}`);
  console.error(`${findings.length} find(s): a secret reaches the browser; keep it in server-only modules`);
  return 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
