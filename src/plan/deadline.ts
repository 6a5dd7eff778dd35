/**
 * `--deadline DURATION|TIME`: when every result must be there. Auto mode then picks the cheapest way
 * to make it: the Messages Batches API (half price) when real time could still finish whatever the
 * batch leaves, cutting over if the batch has not ended in time; real time when it could not.
 *
 * The cut-over: once (deadline - the real-time duration of what is still unresolved - a margin)
 * has come and the batch has not ended, it is canceled; a canceled batch returns the requests it
 * processed, and only the rest — once the batch has ended — go out in real time, so nothing is
 * paid twice.
 */
import { InvalidOptionError } from '../errors.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)$/i;
/** RFC 3339: a date, a time, and an offset (Z or ±hh:mm). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The deadline as ms since epoch: `90m`, `6h`, `45s`, `2d` from `now`, or an RFC 3339 time. */
export function parseDeadline(text: string, now = Date.now()): number {
  const raw = text.trim();
  const d = DURATION.exec(raw);
  if (d) {
    const ms = Number(d[1]) * UNITS[d[2]!.toLowerCase()]!;
    if (ms > 0) return now + ms;
  } else if (RFC3339.test(raw)) {
    const at = Date.parse(raw.replace(' ', 'T'));
    if (Number.isFinite(at)) {
      if (at <= now) throw new InvalidOptionError('--deadline', text, `a time in the future (it is ${new Date(now).toISOString()} now)`);
      return at;
    }
  }
  throw new InvalidOptionError('--deadline', text, 'a duration such as 90m, 6h or 45s, or an RFC 3339 time such as 2026-12-01T18:00:00Z');
}

/**
 * Time kept in hand besides the real-time estimate: a quarter of it (the estimate is an estimate),
 * plus 5 s for the cancel to take effect and the batch's results to be read.
 */
export function cutOverMarginMs(realtimeMs: number): number {
  return realtimeMs / 4 + 5_000;
}

/** When to give up on the batch: the deadline less real time for `unresolved` items and the margin. */
export function cutOverAt(deadline: number, unresolved: number, msPerItem: number): number {
  const realtimeMs = unresolved * msPerItem;
  return deadline - realtimeMs - cutOverMarginMs(realtimeMs);
}
