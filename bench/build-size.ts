// First-load JavaScript per page of a production build, read from the build's
// own manifests (the build output of Next 16 may not print sizes): for each
// app page, the framework's main files (build-manifest.json rootMainFiles)
// and every chunk its client reference manifest names for the page and the
// layouts, boundaries and loading states around it, each file counted once,
// summed raw and gzipped.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';

export interface JsSize {
  files: string[];
  raw: number;
  gzip: number;
}

export interface RouteJs extends JsSize {
  /** The URL path, e.g. /performance. */
  route: string;
  /** The app path of the page, e.g. /(app)/performance/page. */
  page: string;
}

export interface BuildJs {
  buildId: string;
  /** What every page loads: the framework's main files and the root layout's chunks. */
  shared: JsSize;
  routes: RouteJs[];
}

interface ClientManifest {
  entryJSFiles?: Record<string, string[]>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The client reference manifest of one page: a script that assigns it to globalThis.__RSC_MANIFEST[page]. */
function clientManifest(nextDir: string, page: string): ClientManifest | null {
  const file = path.join(nextDir, 'server', 'app', `${page}_client-reference-manifest.js`);
  if (!existsSync(file)) return null;
  const sandbox = vm.createContext({});
  vm.runInContext(readFileSync(file, 'utf8'), sandbox, { timeout: 1000 });
  const all = (sandbox as { __RSC_MANIFEST?: Record<string, ClientManifest> }).__RSC_MANIFEST ?? {};
  return all[page] ?? null;
}

const sizes = new Map<string, { raw: number; gzip: number }>();

function sizeOf(nextDir: string, files: Iterable<string>): JsSize {
  const list = [...new Set(files)].sort();
  let raw = 0;
  let gzip = 0;
  for (const f of list) {
    const abs = path.join(nextDir, f);
    let s = sizes.get(abs);
    if (!s) {
      const buf = readFileSync(abs);
      s = { raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
      sizes.set(abs, s);
    }
    raw += s.raw;
    gzip += s.gzip;
  }
  return { files: list, raw, gzip };
}

/** null when nextDir holds no finished build. */
export function firstLoadJs(nextDir: string): BuildJs | null {
  const idFile = path.join(nextDir, 'BUILD_ID');
  const routesFile = path.join(nextDir, 'app-path-routes-manifest.json');
  const buildFile = path.join(nextDir, 'build-manifest.json');
  if (![idFile, routesFile, buildFile].every((f) => existsSync(f))) return null;
  const main = readJson<{ rootMainFiles?: string[] }>(buildFile).rootMainFiles ?? [];
  const appPaths = readJson<Record<string, string>>(routesFile);
  const routes: RouteJs[] = [];
  let rootLayout: string[] = [];
  for (const [page, route] of Object.entries(appPaths)) {
    if (!page.endsWith('/page')) continue; // route handlers send no JavaScript
    const m = clientManifest(nextDir, page);
    if (!m) continue;
    const entries = m.entryJSFiles ?? {};
    rootLayout = entries['[project]/app/layout'] ?? rootLayout;
    routes.push({ route, page, ...sizeOf(nextDir, [...main, ...Object.values(entries).flat()]) });
  }
  routes.sort((a, b) => a.route.localeCompare(b.route));
  return { buildId: readFileSync(idFile, 'utf8').trim(), shared: sizeOf(nextDir, [...main, ...rootLayout]), routes };
}
