// Hostile files (fast-check): random bytes; a real export's header over rows
// of random cells (quotes anywhere, delimiters and line breaks inside cells,
// NUL and other control characters, lone surrogates in UTF-16, any Unicode,
// huge fields, numbers in every style and in none); and valid files whose
// numbers are written in a random locale. importCsv never rejects on any of
// them, and never writes part of a file: either every valid row is stored, or
// nothing is. Each run is a fresh tenant.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appPool, createTenant, ownerPool } from '../helpers/db';
import {
  bytesOf,
  csv,
  expectedByDay,
  makeRows,
  metaExport,
  storedByDay,
  tenantYesterday,
  writeDay,
  writeNumber,
  type NumberFormat,
  type TextEncoding,
} from './fixtures';
import { chunks, footprint, importBytes } from './helpers';

const owner = ownerPool();
const app = appPool();
let last = '';
async function tenant(): Promise<string> {
  const t = await createTenant(owner, 'Fuzz', 'EUR');
  if (!last) last = await tenantYesterday(owner, t);
  return t;
}

const HEADER = ['Reporting starts', 'Reporting ends', 'Day', 'Campaign name', 'Campaign ID', 'Amount spent (EUR)', 'Impressions', 'Link clicks', 'Results', 'Purchases', 'Purchases conversion value'];

/** A number in any style, or not quite one. */
const numberCell = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 10 ** 9 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom<NumberFormat>('plain', 'en', 'de', 'fr', 'frs', 'comma'))
    .map(([n, d, f]) => writeNumber(n, d, f)),
  fc.constantFrom('1,234', '1.234', '-5', '1.2E+06', '--', '', 'NaN', 'Infinity', '0x1F', '1e400', '99999999999999999999999', '(3.50)', '12 €', '1_000'),
  fc.double().map(String),
);

const hostileCell = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 3, arbitrary: numberCell },
  { weight: 2, arbitrary: fc.constantFrom('"', '""', '","', '\n', '\r\n', ';', '\t', '\u0000', '\u0085', '\ufeff', 'Total: Account', '1.20253E+17') },
  { weight: 2, arbitrary: fc.date({ min: new Date('1999-01-01'), max: new Date('2031-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
);

/** A line of cells joined by a delimiter, each cell quoted or not at random (so quotes may be unbalanced). */
const hostileLine = (width: number) =>
  fc.tuple(fc.array(hostileCell, { minLength: 0, maxLength: width + 2 }), fc.array(fc.boolean(), { minLength: width + 2, maxLength: width + 2 }), fc.constantFrom(',', ';', '\t'))
    .map(([cells, quotes, d]) => cells.map((c, i) => (quotes[i] ? `"${c.replace(/"/g, '""')}"` : c)).join(d));

async function assertAllOrNothing(t: string, r: Awaited<ReturnType<typeof importBytes>>) {
  const f = await footprint(owner, t);
  expect(f.staging).toBe(0);
  if (r.ok) {
    expect(f.metrics).toBe(r.counts.inserted);
    expect(f.succeeded).toBe(1);
    expect(r.counts.read).toBe(r.counts.inserted + r.counts.updated + r.counts.unchanged + r.counts.rejected);
  } else {
    expect(f).toMatchObject({ metrics: 0, daily: 0, weekly: 0, succeeded: 0, audit: 0 });
  }
}

describe('hostile files', () => {
  it('random bytes, in any encoding, in random pieces: a result, never an exception, never a partial write', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom<TextEncoding | null>(null, 'utf-8-bom', 'utf-16le', 'utf-16be'),
        fc.integer({ min: 1, max: 700 }),
        fc.boolean(),
        async (raw, mark, chunk, skipInvalid) => {
          const prefix = mark === null ? Buffer.alloc(0) : bytesOf('', mark);
          const bytes = Buffer.concat([prefix, Buffer.from(raw)]);
          const t = await tenant();
          const r = await importBytes(app, bytes, { tenantId: t, skipInvalid }, { chunk });
          expect(typeof r.ok).toBe('boolean');
          if (!r.ok) expect(r.refusal).not.toBeNull();
          await assertAllOrNothing(t, r);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a Meta header over rows of hostile cells: quotes, delimiters, NUL, any Unicode, huge fields, numbers in every style", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileLine(HEADER.length), { minLength: 1, maxLength: 25 }),
        fc.constantFrom<TextEncoding>('utf-8', 'utf-8-bom', 'utf-16le'),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.integer({ min: 1, max: 4096 }),
        async (lines, enc, eol, skipInvalid, chunk) => {
          const text = [HEADER.join(','), ...lines].join(eol);
          const t = await tenant();
          const r = await importBytes(app, bytesOf(text, enc), { tenantId: t, skipInvalid }, { chunk });
          await assertAllOrNothing(t, r);
          if (r.ok && !skipInvalid) expect(r.problemCount).toBe(0);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('valid rows among hostile ones, with skipInvalid: the valid rows and only they are stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileLine(HEADER.length), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 6 }), async (noise, campaigns) => {
        const t = await tenant();
        const rows = makeRows({ campaigns, days: 3, lastDay: last, seed: campaigns });
        const good = metaExport(rows, { totals: false }).trimEnd().split('\n');
        // Noise lines after the good ones, each made to end its record: an unbalanced quote swallows what follows.
        const text = [...good, ...noise].join('\n');
        const r = await importBytes(app, bytesOf(text), { tenantId: t, skipInvalid: true });
        await assertAllOrNothing(t, r);
        if (r.ok && r.counts.rejected === 0 && r.counts.read === rows.length) {
          expect(await storedByDay(owner, t)).toEqual(expectedByDay(rows));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('numbers written in any locale (and days in any order it uses): stored exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom<NumberFormat>('plain', 'en', 'de', 'fr', 'frs', 'comma'),
        fc.constantFrom(',', ';', '\t'),
        fc.constantFrom<'iso' | 'dmy' | 'dmy-dots'>('iso', 'dmy', 'dmy-dots'),
        async (seed, nf, delimiter, df) => {
          const t = await tenant();
          const rows = makeRows({ campaigns: 3, days: 14, lastDay: last, seed, fractional: true, trickyNames: seed % 2 === 0 });
          const lines = [HEADER, ...rows.map((r) => [
            writeDay(r.day, df), writeDay(r.day, df), writeDay(r.day, df), r.campaignName, r.campaignId,
            writeNumber(r.spendCents, 2, nf), writeNumber(r.impressions, 0, nf), writeNumber(r.clicks, 0, nf),
            writeNumber(r.conversions100, 2, nf), '0', writeNumber(r.valueCents, 2, nf),
          ])];
          const r = await importBytes(app, bytesOf(csv(lines, delimiter)), { tenantId: t });
          expect(r.refusal).toBeNull();
          expect(await storedByDay(owner, t)).toEqual(expectedByDay(rows));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a line over a million characters is refused as unreadable', async () => {
    const t = await tenant();
    const text = `${HEADER.join(',')}\n${last},${last},${last},"${'y'.repeat(1_100_000)}",1,1,1,1,1,1,1\n`;
    const r = await importBytes(app, bytesOf(text), { tenantId: t }, { chunk: 65536 });
    expect(r.refusal).toMatchObject({ code: 'unreadable', message: expect.stringMatching(/over 1,000,000 characters/) });
    await assertAllOrNothing(t, r);
    expect(chunks(Buffer.alloc(10), 3)).toHaveLength(4);
  });
});
