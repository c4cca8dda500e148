import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { firstLoadJs } from '../../bench/build-size';

const dir = mkdtempSync(path.join(os.tmpdir(), 'aegis-build-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};

/** A client reference manifest as the build writes it: a script assigning the page's entry. */
const manifest = (page: string, entries: Record<string, string[]>) =>
  `globalThis.__RSC_MANIFEST = globalThis.__RSC_MANIFEST || {};\nglobalThis.__RSC_MANIFEST[${JSON.stringify(page)}] = ${JSON.stringify({ clientModules: {}, entryJSFiles: entries })};\n`;

describe('first-load JavaScript from the build manifests', () => {
  it('is null without a finished build', () => {
    expect(firstLoadJs(path.join(dir, 'nothing'))).toBeNull();
  });

  it('sums the main files and every chunk of the page and its layouts once, raw and gzipped', () => {
    const files: Record<string, string> = {
      'static/chunks/main.js': 'm'.repeat(1000),
      'static/chunks/root.js': 'r'.repeat(300),
      'static/chunks/group.js': 'g'.repeat(200),
      'static/chunks/page.js': 'p'.repeat(50),
      'static/chunks/other.js': 'o'.repeat(7),
    };
    for (const [f, text] of Object.entries(files)) write(f, text);
    write('BUILD_ID', 'build-1\n');
    write('build-manifest.json', JSON.stringify({ rootMainFiles: ['static/chunks/main.js'], polyfillFiles: ['static/chunks/other.js'] }));
    write(
      'app-path-routes-manifest.json',
      JSON.stringify({ '/(app)/perf/(streamed)/page': '/perf', '/signin/page': '/signin', '/api/x/route': '/api/x', '/gone/page': '/gone' }),
    );
    write(
      'server/app/(app)/perf/(streamed)/page_client-reference-manifest.js',
      manifest('/(app)/perf/(streamed)/page', {
        '[project]/app/layout': ['static/chunks/root.js'],
        '[project]/app/(app)/layout': ['static/chunks/root.js', 'static/chunks/group.js'],
        '[project]/app/(app)/perf/(streamed)/page': ['static/chunks/root.js', 'static/chunks/group.js', 'static/chunks/page.js'],
      }),
    );
    write('server/app/signin/page_client-reference-manifest.js', manifest('/signin/page', { '[project]/app/layout': ['static/chunks/root.js'] }));
    // a route handler's manifest exists too, but it sends no JavaScript
    write('server/app/api/x/route_client-reference-manifest.js', manifest('/api/x/route', { x: ['static/chunks/other.js'] }));

    const r = firstLoadJs(dir)!;
    const gz = (f: string) => gzipSync(Buffer.from(files[f]!), { level: 9 }).length;
    expect(r.buildId).toBe('build-1');
    expect(r.routes.map((x) => x.route)).toEqual(['/perf', '/signin']); // no manifest for /gone, none counted for /api/x
    const perf = r.routes[0]!;
    expect(perf.files).toEqual(['static/chunks/group.js', 'static/chunks/main.js', 'static/chunks/page.js', 'static/chunks/root.js']);
    expect(perf.raw).toBe(1000 + 300 + 200 + 50);
    expect(perf.gzip).toBe(gz('static/chunks/main.js') + gz('static/chunks/root.js') + gz('static/chunks/group.js') + gz('static/chunks/page.js'));
    expect(perf.gzip).toBeLessThan(perf.raw);
    expect(r.routes[1]!.raw).toBe(1300);
    // shared: the main files and the root layout, what the sign-in page loads too
    expect(r.shared.raw).toBe(1300);
    expect(r.shared.files).toEqual(['static/chunks/main.js', 'static/chunks/root.js']);
  });
});
