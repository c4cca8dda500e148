// Text that goes into the database (a text column, a jsonb value) must be
// well formed: PostgreSQL refuses a NUL character in text and jsonb, and jsonb
// refuses a lone UTF-16 surrogate ("\ud83d", what JSON.stringify writes for
// one). A lone surrogate appears whenever a string is cut with .slice(n) in
// the middle of an emoji. So every cut in lib/alerts goes through cutText
// (by code point, never inside a pair), and every value stored goes through
// storableText / storableJson. Pure; not server-only.

/** The text with every lone surrogate and NUL replaced by U+FFFD: always storable. */
export function storableText(s: string): string {
  return s.toWellFormed().replace(/\u0000/g, '\uFFFD');
}

/**
 * At most `max` code points of `s` (PostgreSQL's char_length), well formed:
 * the cut never splits a surrogate pair, and a lone surrogate already in `s`
 * becomes U+FFFD. `ellipsis` (counted in `max`) marks a cut.
 */
export function cutText(s: string, max: number, ellipsis = ''): string {
  const clean = storableText(s);
  // Fast path: a string of at most `max` UTF-16 units has at most `max` code points.
  if (clean.length <= max) return clean;
  const points = Array.from(clean);
  if (points.length <= max) return clean;
  const room = Math.max(0, max - Array.from(ellipsis).length);
  return points.slice(0, room).join('') + (room < max ? ellipsis : '');
}

/** JSON.stringify with every string (keys too) made storable: the result is always accepted by jsonb. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return storableText(v);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => storableText(k) !== k)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), x]));
    }
    return v;
  });
}
