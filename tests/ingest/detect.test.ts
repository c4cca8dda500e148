// Recognising each platform's export from its first bytes, as the platform
// writes it: the encoding (BOM, UTF-16 LE/BE, with or without a mark), the
// delimiter, Google's preamble, the language of the headers, the level, the
// currency in a header, the number style and date order; and the refusals
// that come before any row is read. Pure, no database.
import { describe, expect, it } from 'vitest';
import { detect, detectFormat, splitRecords } from '../../lib/ingest/detect';
import { bytesOf, csv, googleExport, linkedinExport, makeRows, metaExport, tiktokExport } from './fixtures';

const rows = makeRows({ campaigns: 3, days: 4, lastDay: '2024-03-31' });
const adsets = makeRows({ campaigns: 2, adsets: 2, days: 3, lastDay: '2024-03-31' });
const google = makeRows({ campaigns: 3, days: 4, lastDay: '2024-03-31', idDigits: 10, fractional: true });

describe('detectFormat', () => {
  it('Meta, English: comma, UTF-8, the currency of "Amount spent (EUR)", campaign level, and its mapping', () => {
    const f = detectFormat(bytesOf(metaExport(rows)));
    expect(f).toMatchObject({
      platform: 'meta',
      format: 'meta',
      level: 'campaign',
      delimiter: ',',
      encoding: 'utf-8',
      preambleLines: 0,
      currency: 'EUR',
      language: 'en',
      numberStyle: 'dot',
    });
    expect(f.mapping).toEqual({
      day: 'Day',
      campaign_id: 'Campaign ID',
      campaign_name: 'Campaign name',
      spend: 'Amount spent (EUR)',
      impressions: 'Impressions',
      clicks: 'Link clicks',
      conversions: 'Results',
      conversion_value: 'Purchases conversion value',
    });
    expect(f.headers[0]).toBe('Reporting starts');
  });

  it('Meta, French: the byte-order mark dropped, semicolons, 1 234,56 and dd/mm/yyyy', () => {
    const f = detectFormat(bytesOf(metaExport(rows, { lang: 'fr', numbers: 'fr' }), 'utf-8-bom'));
    expect(f).toMatchObject({ platform: 'meta', format: 'meta-fr', delimiter: ';', encoding: 'utf-8', currency: 'EUR', numberStyle: 'comma', dateOrder: 'dmy', language: 'fr' });
    expect(f.headers[0]).toBe('Début des rapports');
    expect(f.mapping.clicks).toBe('Clics sur un lien');
    expect(f.mapping.conversion_value).toBe('Valeur de conversion des achats');
  });

  it('Meta at ad set level: the ad set id column makes ad set rows', () => {
    const f = detectFormat(bytesOf(metaExport(adsets)));
    expect(f.level).toBe('adset');
    expect(f.mapping).toMatchObject({ adset_id: 'Ad set ID', adset_name: 'Ad set name', campaign_id: 'Campaign ID' });
  });

  it('Google Ads, English: two preamble lines, 1,234.56, the currency column', () => {
    const f = detectFormat(bytesOf(googleExport(google)));
    expect(f).toMatchObject({ platform: 'google', format: 'google', delimiter: ',', preambleLines: 2, numberStyle: 'dot', currency: null });
    expect(f.mapping).toMatchObject({ day: 'Day', campaign_name: 'Campaign', impressions: 'Impr.', spend: 'Cost', conversion_value: 'Conv. value', currency: 'Currency code' });
  });

  it('Google Ads, German: Tag, Kampagne, Kosten, Conv.-Wert and 1.234,56', () => {
    const f = detectFormat(bytesOf(googleExport(google, { lang: 'de' })));
    expect(f).toMatchObject({ platform: 'google', format: 'google-de', numberStyle: 'comma', dateOrder: 'dmy', language: 'de' });
    expect(f.mapping).toMatchObject({ day: 'Tag', campaign_name: 'Kampagne', campaign_id: 'Kampagnen-ID', spend: 'Kosten', conversion_value: 'Conv.-Wert' });
  });

  it('Google Ads "Excel CSV": tab-separated UTF-16, little- and big-endian, with or without a mark', () => {
    const text = googleExport(google, { tabs: true });
    for (const [enc, want] of [['utf-16le', 'utf-16le'], ['utf-16be', 'utf-16be'], ['utf-16le-nobom', 'utf-16le']] as const) {
      const f = detectFormat(bytesOf(text, enc));
      expect(f, enc).toMatchObject({ platform: 'google', format: 'google-utf16', delimiter: '\t', encoding: want, preambleLines: 2 });
    }
  });

  it('TikTok and LinkedIn (M/D/YYYY)', () => {
    expect(detectFormat(bytesOf(tiktokExport(rows)))).toMatchObject({ platform: 'tiktok', format: 'tiktok', level: 'campaign' });
    expect(detectFormat(bytesOf(tiktokExport(rows))).mapping).toMatchObject({ day: 'By Day', clicks: 'Clicks (destination)', conversion_value: 'Total conversion value' });
    const li = detectFormat(bytesOf(linkedinExport(rows)));
    expect(li).toMatchObject({ platform: 'linkedin', format: 'linkedin', dateOrder: 'mdy' });
    expect(li.mapping).toMatchObject({ day: 'Start Date (in UTC)', spend: 'Total Spent', conversions: 'Conversions' });
  });

  it('LinkedIn with an unambiguous day in the first rows: the order comes from the values', () => {
    const text = csv([
      ['Start Date (in UTC)', 'Campaign Name', 'Campaign ID', 'Total Spent', 'Impressions', 'Clicks', 'Conversions'],
      ['3/1/2024', 'A', '1', '1', '1', '1', '1'],
      ['3/13/2024', 'A', '1', '1', '1', '1', '1'],
    ]);
    expect(detectFormat(bytesOf(text)).dateOrder).toBe('mdy');
  });

  it("Meta's 'Clicks (all)' when there is no 'Link clicks'", () => {
    expect(detectFormat(bytesOf(metaExport(rows, { clicksAll: true }))).mapping.clicks).toBe('Clicks (all)');
  });

  it('a mapping the buyer made for any other file, with the platform chosen', () => {
    const text = csv([
      ['date', 'cid', 'name', 'cost', 'imps', 'clk', 'conv'],
      ['2024-03-01', '1', 'A', '1,5', '10', '1', '0'],
    ], ';');
    const mapping = { day: 'date', campaign_id: 'cid', campaign_name: 'name', spend: 'cost', impressions: 'imps', clicks: 'clk', conversions: 'conv' };
    const d = detect(bytesOf(text), { platform: 'tiktok', mapping });
    expect(d.ok).toBe(true);
    expect(d.format).toMatchObject({ platform: 'tiktok', format: 'mapped', delimiter: ';', numberStyle: 'comma' });
    // Without the mapping: unknown, with the headers for the mapping editor.
    const u = detect(bytesOf(text));
    expect(u.ok).toBe(false);
    expect(u.ok ? null : u.refusal.code).toBe('unknown_format');
    expect(u.format?.headers).toEqual(['date', 'cid', 'name', 'cost', 'imps', 'clk', 'conv']);
    expect(u.format?.delimiter).toBe(';');
    // A mapping naming a column the file lacks.
    const m = detect(bytesOf(text), { platform: 'tiktok', mapping: { ...mapping, spend: 'spend' } });
    expect(m.ok ? null : m.refusal).toMatchObject({ code: 'mapping', message: expect.stringContaining('“spend”') });
  });
});

describe('refusals before any row', () => {
  it('another platform than the one chosen', () => {
    const d = detect(bytesOf(googleExport(google)), { platform: 'tiktok' });
    expect(d.ok ? null : d.refusal).toMatchObject({ code: 'mapping', message: expect.stringMatching(/Google Ads export, not TikTok/) });
  });

  it('an export by ad', () => {
    const text = csv([['Day', 'Campaign name', 'Campaign ID', 'Ad name', 'Ad ID', 'Amount spent (EUR)', 'Impressions', 'Link clicks', 'Results'], ['2024-03-01', 'A', '1', 'x', '2', '1', '1', '1', '1']]);
    const d = detect(bytesOf(text));
    expect(d.ok ? null : d.refusal).toMatchObject({ code: 'mapping', message: expect.stringMatching(/by ad .*Ad (ID|name)/) });
  });

  it('ad sets without their id', () => {
    const text = csv([['Day', 'Campaign', 'Campaign ID', 'Ad group', 'Impr.', 'Clicks', 'Cost', 'Conversions'], ['2024-03-01', 'A', '1', 'g', '1', '1', '1', '1']]);
    const d = detect(bytesOf(text));
    expect(d.ok ? null : d.refusal).toMatchObject({ code: 'mapping', message: expect.stringContaining('no ad set ID') });
  });

  it('a required column missing', () => {
    const text = csv([['Day', 'Campaign name', 'Campaign ID', 'Amount spent (EUR)', 'Impressions', 'Link clicks'], ['2024-03-01', 'A', '1', '1', '1', '1']]);
    const d = detect(bytesOf(text));
    expect(d.ok ? null : d.refusal).toMatchObject({ code: 'mapping', message: expect.stringContaining('conversions') });
  });

  it('empty, NUL bytes, no header', () => {
    expect(detect(Buffer.alloc(0)).ok).toBe(false);
    expect((detect(bytesOf('   \n\n')) as { refusal: { code: string } }).refusal.code).toBe('empty');
    expect((detect(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0x14, 0, 0, 0x08, 0x50, 0x4b])) as { refusal: { code: string } }).refusal.code).toBe('unreadable');
    expect((detect(bytesOf('hello world\n')) as { refusal: { code: string } }).refusal.code).toBe('unknown_format');
  });

  it('neither UTF-8 nor UTF-16: the first byte that is not ASCII decides, and Windows-1252 is read', () => {
    // Excel's French "CSV (séparateur: point-virgule)": 1 234,56 with plain spaces (its code page has no narrow no-break space).
    const french = metaExport(rows, { lang: 'fr' });
    const f = detectFormat(bytesOf(french, 'windows-1252'));
    expect(f).toMatchObject({ platform: 'meta', format: 'meta-fr', delimiter: ';', encoding: 'windows-1252', currency: 'EUR', language: 'fr' });
    expect(f.headers).toContain('Montant dépensé (EUR)');
    // UTF-8 stays UTF-8, with or without a mark.
    expect(detectFormat(bytesOf(french, 'utf-8')).encoding).toBe('utf-8');
    expect(detectFormat(bytesOf(french, 'utf-8-bom')).encoding).toBe('utf-8');
    // An all-ASCII head says nothing yet: provisionally UTF-8 (the stream decides at the first other byte).
    expect(detectFormat(bytesOf(metaExport(rows))).encoding).toBe('utf-8');
  });

  it('the first bytes only: a cut last line is not read, a character cut in two is left for later', () => {
    const text = metaExport(rows);
    const cut = bytesOf(`${text}2024-03-31,2024-03-31,2024-03-31,Caf`);
    const withCut = Buffer.concat([cut, Buffer.from([0xc3])]);
    const d = detect(withCut, { complete: false });
    expect(d.ok).toBe(true);
  });
});

describe('splitRecords', () => {
  it('keeps delimiters and line breaks inside quotes, "" as a quote', () => {
    expect(splitRecords('a,"b,c"\r\n"d\ne","f""g"\n', ',', true)).toEqual([
      ['a', 'b,c'],
      ['d\ne', 'f"g'],
    ]);
    expect(splitRecords('a,b\nc,d', ',', false)).toEqual([['a', 'b']]);
  });
});
