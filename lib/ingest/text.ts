// A file's bytes to text, streaming, in the encoding it was saved in. A
// byte-order mark decides (UTF-8, UTF-16 LE or BE), and so do the NUL bytes
// of UTF-16 without one. Otherwise the first byte that is not ASCII decides,
// wherever it is in the file: the start of a well-formed UTF-8 character
// makes the file UTF-8, anything else Windows-1252 (what Excel's "CSV" saves
// on a French or German Windows: é is the single byte E9). ASCII reads the
// same either way, so until that byte nothing needs deciding, and the decision
// depends on the bytes only, never on how the stream is cut. A UTF-8 file
// with a byte that is not UTF-8 after that point is refused, with the row and
// the byte (reading it as Windows-1252 would change every accented letter
// already read). Pure, client-safe: the page's sniff runs it too.

import type { DetectedFormat } from './types';

export type Encoding = DetectedFormat['encoding'];

/** Why the bytes cannot be read as text, and where. */
export class UnreadableText extends Error {
  constructor(
    readonly encoding: Encoding,
    /** The first byte that could not be read, counted from 1 (the byte-order mark included). */
    readonly byte: number,
    /** The row (as a spreadsheet numbers them) it is on, when the rows were counted. */
    readonly row: number | null,
  ) {
    const at = `${row !== null ? `row ${row.toLocaleString('en')}, ` : ''}byte ${byte.toLocaleString('en')}`;
    super(
      encoding === 'utf-8'
        ? `The file is UTF-8 text up to ${at}, which is not UTF-8: it mixes encodings. Save it again as “CSV UTF-8”, or export it again from the platform.`
        : `The file is not valid ${encoding === 'utf-16le' ? 'UTF-16' : 'UTF-16 (big-endian)'} text (near ${at}).`,
    );
    this.name = 'UnreadableText';
  }
}

/**
 * The well-formed UTF-8 character starting at bytes[i] (a byte of 0x80 or
 * more): its length; 0 when it is not one; -1 when the bytes end before it
 * can be told.
 */
export function utf8Sequence(bytes: Uint8Array, i: number, end: number): number {
  const b = bytes[i]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k < n; k++) {
    if (i + k >= end) return -1;
    const c = bytes[i + k]!;
    if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return 0;
  }
  return n;
}

/** Where the bytes stop being well-formed UTF-8 (bytes.length when they do not); a character cut by the end counts as not. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i]! < 0x80) {
      i++;
      continue;
    }
    const n = utf8Sequence(bytes, i, bytes.length);
    if (n <= 0) return i;
    i += n;
  }
  return bytes.length;
}

/** Where the bytes' last character starts when the end cuts it (a piece of a stream), else their length. */
function completeUtf8(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if (b < 0x80) return bytes.length;
    if (b >= 0xc0) return utf8Sequence(bytes, bytes.length - back, bytes.length) === -1 ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** A file's encoding as its first bytes tell it, and the length of its byte-order mark. "utf-8" may still turn out Windows-1252 later (all ASCII so far). */
export function detectEncoding(bytes: Uint8Array): { encoding: Encoding; bom: number } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', bom: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bom: 2 };
  // UTF-16 without a mark: text of Latin letters has a NUL in every other byte.
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n >= 4) {
    let evenNul = 0;
    let oddNul = 0;
    for (let i = 0; i < n; i += 2) {
      if (bytes[i] === 0) evenNul++;
      if (bytes[i + 1] === 0) oddNul++;
    }
    const half = n / 2;
    if (oddNul > half * 0.4 && evenNul < half * 0.05) return { encoding: 'utf-16le', bom: 0 };
    if (evenNul > half * 0.4 && oddNul < half * 0.05) return { encoding: 'utf-16be', bom: 0 };
  }
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! < 0x80) continue;
    return { encoding: utf8Sequence(bytes, i, bytes.length) === 0 ? 'windows-1252' : 'utf-8', bom: 0 };
  }
  return { encoding: 'utf-8', bom: 0 };
}

type Mode = 'ascii' | Encoding;

/**
 * The streaming decoder. decode() gives the text of each piece (a character
 * cut between pieces comes whole with the next); when the bytes stop being
 * readable it gives the text before the first bad byte and sets `failure`, and
 * then nothing more. end() gives what the last piece held back.
 */
export class TextStream {
  /** What the bytes are being read as: 'ascii' while no byte has decided between UTF-8 and Windows-1252. */
  private mode: Mode;
  private decoder: TextDecoder | null = null;
  /** Bytes held back: a character cut by the end of a piece. */
  private carry: Uint8Array | null = null;
  private skip: number;
  /** Bytes consumed before the current piece. */
  private offset = 0;
  /** The first byte that could not be read (from 0), once one was found. */
  failure: number | null = null;

  constructor(encoding: Encoding, bom: number) {
    // Without a mark, UTF-8 is only a provisional reading until a byte decides.
    this.mode = encoding === 'utf-8' && bom === 0 ? 'ascii' : encoding;
    this.skip = bom;
  }

  /** The encoding read: "utf-8" for a file that is all ASCII. */
  get encoding(): Encoding {
    return this.mode === 'ascii' ? 'utf-8' : this.mode;
  }

  decode(piece: Uint8Array): string {
    if (this.failure !== null) return '';
    let bytes = piece;
    if (this.skip > 0) {
      const s = Math.min(this.skip, bytes.length);
      this.skip -= s;
      this.offset += s;
      bytes = bytes.subarray(s);
    }
    if (this.carry) {
      const joined = new Uint8Array(this.carry.length + bytes.length);
      joined.set(this.carry);
      joined.set(bytes, this.carry.length);
      this.offset -= this.carry.length;
      this.carry = null;
      bytes = joined;
    }
    const text = this.read(bytes, false);
    this.offset += bytes.length;
    return text;
  }

  end(): string {
    if (this.failure !== null) return '';
    const rest = this.carry ?? new Uint8Array(0);
    this.carry = null;
    this.offset -= rest.length;
    const text = this.read(rest, true);
    this.offset += rest.length;
    return text;
  }

  private read(bytes: Uint8Array, last: boolean): string {
    if (this.mode === 'ascii') {
      let i = 0;
      // The common case at native speed: a piece of ASCII decodes to as many characters as it has bytes.
      try {
        const t = asciiProbe.decode(bytes);
        if (t.length === bytes.length) return t;
      } catch {
        // not all ASCII: found below
      }
      while (i < bytes.length && bytes[i]! < 0x80) i++;
      const head = asciiProbe.decode(bytes.subarray(0, i));
      if (i === bytes.length) return head;
      const n = utf8Sequence(bytes, i, bytes.length);
      if (n === -1 && !last) {
        this.carry = bytes.slice(i);
        return head;
      }
      this.mode = n > 0 ? 'utf-8' : 'windows-1252';
      return head + this.readDecided(bytes.subarray(i), i, last);
    }
    return this.readDecided(bytes, 0, last);
  }

  /** `from`: where these bytes start within the piece (for the offset of a failure). */
  private readDecided(bytes: Uint8Array, from: number, last: boolean): string {
    if (this.mode === 'windows-1252') {
      // Always streaming: Node 20's one-shot decode of windows-1252 reads 0x80-0x9F as Latin-1 (€ would become U+0080).
      this.decoder ??= new TextDecoder('windows-1252');
      return this.decoder.decode(bytes, { stream: !last });
    }
    if (this.mode === 'utf-8') {
      const cut = last ? bytes.length : completeUtf8(bytes);
      if (cut < bytes.length) this.carry = bytes.slice(cut);
      const whole = bytes.subarray(0, cut);
      try {
        return utf8.decode(whole);
      } catch {
        const bad = firstInvalidUtf8(whole);
        this.failure = this.offset + from + bad;
        this.carry = null;
        return utf8.decode(whole.subarray(0, bad));
      }
    }
    this.decoder ??= new TextDecoder(this.mode, { fatal: true, ignoreBOM: true });
    try {
      return this.decoder.decode(bytes, { stream: !last });
    } catch {
      this.failure = this.offset + from;
      return '';
    }
  }
}

const asciiProbe = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The head of a file as text. A UTF-8 head is read up to its first bad byte
 * (the stream refuses the file there, naming its row); a UTF-16 one that
 * cannot be read throws.
 */
export function decodeHead(bytes: Uint8Array, complete: boolean): { text: string; encoding: Encoding; complete: boolean } {
  const { encoding, bom } = detectEncoding(bytes);
  const s = new TextStream(encoding, bom);
  let text = s.decode(bytes);
  if (complete && s.failure === null) text += s.end();
  if (s.failure !== null && s.encoding !== 'utf-8') throw new UnreadableText(s.encoding, s.failure + 1, null);
  return { text, encoding: s.encoding, complete: complete && s.failure === null };
}
