/**
 * A value the user gave, quoted for an error line. Long values are shortened in the middle, so a
 * 100,000-character custom_id does not make a 100 KB error line, while its start and end (where a
 * typo or a stray character usually shows) stay visible.
 */

/** Characters of a value shown in full; longer ones keep their first and last part. */
export const MAX_QUOTED_CHARS = 64;

/** `"value"` (JSON-quoted); a long value becomes `"abc…xyz" (100,000 characters)`. */
export function quoted(value: string, max = MAX_QUOTED_CHARS): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(shortened(value, max))} (${value.length.toLocaleString('en-US')} characters)`;
}

/** `value` cut to about `max` characters around a `…` (no quotes, no length note). */
export function shortened(value: string, max = MAX_QUOTED_CHARS): string {
  if (value.length <= max) return value;
  const head = Math.ceil((max - 1) * 0.6);
  const tail = max - 1 - head;
  // Never split a surrogate pair: a lone half would print as U+FFFD.
  const start = safeEnd(value, head);
  const end = safeStart(value, value.length - tail);
  return `${value.slice(0, start)}…${value.slice(end)}`;
}

function safeEnd(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  return c >= 0xd800 && c <= 0xdbff ? i - 1 : i;
}

function safeStart(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff ? i + 1 : i;
}
