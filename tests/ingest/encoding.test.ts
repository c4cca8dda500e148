// Files that are neither UTF-8 nor UTF-16: Excel's French "CSV
// (séparateur: point-virgule)" saves Windows-1252, é as the single byte E9.
// The first byte that is not ASCII decides between UTF-8 and Windows-1252,
// wherever it is in the file, so the outcome is the same however the stream
// is cut; a UTF-8 file with a stray byte later on is refused with its row
// and byte, whatever the pieces. The encoder of the fixtures is written from
// the code page's chart, not with the decoder under test.
import { describe, expect, it } from 'vitest';
import { TextStream } from '../../lib/ingest/text';
import { appPool, createTenant, ownerPool } from '../helpers/db';
import { bytesOf, expectedByDay, makeRows, metaExport, storedByDay, storedRows, tenantYesterday, type TruthRow } from './fixtures';
import { chunks, footprint, importBytes } from './helpers';

const owner = ownerPool();
const app = appPool();

/** Names with what Windows-1252 has beyond Latin-1 (€, œ, Œ, ’, “ ”, –) and accents. */
const NAMES = ['Été “soldes” -20 €', 'Cœur d’artichaut', 'Crème brûlée – Noël', 'Œuvres & Çà', 'Prix 12€ • Bretagne'];

function frenchRows(last: string, adsets: number): TruthRow[] {
  return makeRows({ campaigns: 4, adsets, days: 6, lastDay: last, seed: 81, fractional: true }).map((r, i) => ({
    ...r,
    campaignName: `${NAMES[Number(r.campaignId.slice(-4)) % NAMES.length]} #${r.campaignId.slice(-2)}`,
    ...(r.adsetId ? { adsetName: `${NAMES[(i + 2) % NAMES.length]} / ${r.adsetId.slice(-3)}` } : {}),
  }));
}

async function fresh(label: string) {
  const tenant = await createTenant(owner, `Encoding: ${label}`, 'EUR');
  return { tenant, last: await tenantYesterday(owner, tenant) };
}

describe('Windows-1252', () => {
  for (const chunk of [undefined, 1, 3, 7]) {
    it(`a French Meta export of ad sets round-trips${chunk ? ` in ${chunk}-byte pieces` : ''}: headers recognised, names stored exactly`, async () => {
      const { tenant, last } = await fresh(`fr ${chunk ?? 'whole'}`);
      const rows = frenchRows(last, 2);
      const bytes = bytesOf(metaExport(rows, { lang: 'fr' }), 'windows-1252');
      // Not UTF-8: the decoder must not be given the choice.
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
      const r = await importBytes(app, bytes, { tenantId: tenant }, { chunk });
      expect(r.refusal).toBeNull();
      expect(r.format).toMatchObject({ platform: 'meta', format: 'meta-fr', level: 'adset', delimiter: ';', encoding: 'windows-1252', language: 'fr' });
      expect(r.format!.headers).toEqual(expect.arrayContaining(['Montant dépensé (EUR)', 'Nom de l’ensemble de publicités', 'Résultats']));
      expect(r.counts).toEqual({ read: rows.length, inserted: rows.length, updated: 0, unchanged: 0, rejected: 0, skipped: 1 });
      expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(rows));
      const stored = await storedRows(owner, tenant);
      const names = (xs: (string | undefined)[]) => [...new Set(xs)].sort();
      expect(names(stored.map((s) => s.campaign_name))).toEqual(names(rows.map((x) => x.campaignName)));
      expect(names(stored.map((s) => s.entity_name))).toEqual(names(rows.map((x) => x.adsetName)));
      expect(stored.find((s) => s.entity_name!.includes('€'))).toBeTruthy();
    });
  }

  it('the first accented byte after the first 64 KB (all ASCII before): read as Windows-1252 from there, the same in any pieces', async () => {
    const { last } = await fresh('late byte');
    const all = makeRows({ campaigns: 120, days: 8, lastDay: last, seed: 82 });
    const lastCampaign = all.at(-1)!.campaignId;
    const rows = all.map((r) => (r.campaignId === lastCampaign ? { ...r, campaignName: 'Noël à Besançon' } : r));
    const bytes = bytesOf(metaExport(rows), 'windows-1252');
    expect(bytes.indexOf(0xeb)).toBeGreaterThan(64 * 1024);
    for (const chunk of [undefined, 1, 4096, 65536]) {
      const { tenant } = await fresh(`late byte ${chunk}`);
      const r = await importBytes(app, bytes, { tenantId: tenant }, { chunk });
      expect(r.refusal).toBeNull();
      expect(r.format?.encoding).toBe('windows-1252');
      expect(r.counts.inserted).toBe(rows.length);
      const stored = await storedRows(owner, tenant);
      expect(stored.filter((s) => s.campaign_name === 'Noël à Besançon')).toHaveLength(8);
      expect(stored.filter((s) => /Ã|\ufffd/.test(s.campaign_name ?? ''))).toEqual([]);
    }
  });

  it('UTF-8 stays UTF-8, with or without a mark, in any pieces', async () => {
    const { last } = await fresh('utf-8');
    const rows = frenchRows(last, 0);
    for (const [enc, chunk] of [['utf-8', 1], ['utf-8', 7], ['utf-8-bom', 3], ['utf-8', undefined]] as const) {
      const { tenant } = await fresh(`utf-8 ${enc} ${chunk}`);
      const r = await importBytes(app, bytesOf(metaExport(rows, { lang: 'fr' }), enc), { tenantId: tenant }, { chunk });
      expect(r.refusal).toBeNull();
      expect(r.format?.encoding).toBe('utf-8');
      expect([...new Set((await storedRows(owner, tenant)).map((s) => s.campaign_name))].sort()).toEqual([...new Set(rows.map((x) => x.campaignName))].sort());
    }
  });
});

describe('a UTF-8 file with a byte that is not UTF-8', () => {
  /** A UTF-8 export (é on its first data rows) with one byte of Windows-1252 planted in the name of a row far into the file. */
  function mixed(rows: TruthRow[], at: number): { bytes: Buffer; row: number; byte: number } {
    const named = rows.map((r, i) => (i === 0 ? { ...r, campaignName: 'Café crème' } : i === at ? { ...r, campaignName: 'Caf#' } : r));
    const bytes = bytesOf(metaExport(named));
    const byte = bytes.indexOf('Caf#');
    expect(byte).toBeGreaterThan(0);
    bytes[byte + 3] = 0xe9;
    // The header is row 1 and Meta's totals row 2: data row i is row i + 3.
    return { bytes, row: at + 3, byte: byte + 4 };
  }

  it('after a valid first chunk: refused with its row and byte, however the stream is cut; nothing stored', async () => {
    const { last } = await fresh('stray');
    const rows = makeRows({ campaigns: 150, days: 8, lastDay: last, seed: 83 });
    const { bytes, row, byte } = mixed(rows, 1100);
    expect(byte).toBeGreaterThan(64 * 1024);
    const messages = new Set<string>();
    for (const chunk of [undefined, 1, 7, 65536, 65537]) {
      const { tenant } = await fresh(`stray ${chunk}`);
      const r = await importBytes(app, bytes, { tenantId: tenant }, { chunk });
      expect(r.ok).toBe(false);
      expect(r.refusal?.code).toBe('unreadable');
      messages.add(r.refusal!.message);
      expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, staging: 0, succeeded: 0, refused: 1 });
    }
    expect([...messages]).toEqual([
      `The file is UTF-8 text up to row ${row.toLocaleString('en')}, byte ${byte.toLocaleString('en')}, which is not UTF-8: it mixes encodings. ` +
        'Save it again as “CSV UTF-8”, or export it again from the platform.',
    ]);
  });

  it('within the first 64 KB too: the same refusal, from the same place', async () => {
    const { tenant, last } = await fresh('stray early');
    const rows = makeRows({ campaigns: 3, days: 8, lastDay: last, seed: 84 });
    const { bytes, row, byte } = mixed(rows, 10);
    const r = await importBytes(app, bytes, { tenantId: tenant }, { chunk: 5 });
    expect(r.refusal).toMatchObject({ code: 'unreadable', message: expect.stringContaining(`up to row ${row}, byte ${byte.toLocaleString('en')},`) });
  });

  it('a character cut by the end of the file is not UTF-8 either', () => {
    const s = new TextStream('utf-8', 0);
    expect(s.decode(Buffer.from('Café,'))).toBe('Café,');
    expect(s.decode(Buffer.from([0x41, 0xc3]))).toBe('A');
    expect(s.end()).toBe('');
    expect(s.failure).toBe(7);
  });
});

describe('the decoder alone', () => {
  it('gives the same text whatever the pieces, and decides at the same byte', () => {
    const text = `${'a,b,c\n'.repeat(50)}Prix 12€ – cœur d’Œdipe\n`;
    for (const enc of ['windows-1252', 'utf-8'] as const) {
      const bytes = bytesOf(text, enc);
      for (const size of [1, 2, 3, 5, 64, bytes.length]) {
        const s = new TextStream('utf-8', 0);
        let out = '';
        for (const c of chunks(bytes, size)) out += s.decode(c);
        out += s.end();
        expect(out, `${enc} in ${size}-byte pieces`).toBe(text);
        expect(s.encoding).toBe(enc);
        expect(s.failure).toBeNull();
      }
    }
  });
});
