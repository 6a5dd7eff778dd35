/**
 * The one-line status of a run in progress: the compact bar text (TTY) and the plain log line
 * (non-TTY, e.g. cron or CI logs).
 *
 * Both must fit: a terminal cuts the bar at its width and a log line over ~100 characters is hard
 * to scan. So each line sheds its least important pieces until it fits, in a fixed order, and
 * what must always show is done/total, ok/err, req/min against its limit, 429s and the ETA.
 */
import type { RunStats } from './stats.js';
import { formatClock, formatCompact, formatCount, formatEta } from './format.js';

/** Seconds left: the scheduler's estimate, else the pace of this run's own completions so far. */
export function etaSeconds(stats: RunStats, now: number): number | undefined {
  if (stats.etaSeconds !== undefined) return stats.etaSeconds;
  const remaining = stats.total - stats.done;
  if (remaining <= 0) return 0;
  const finishedHere = stats.done - stats.skipped;
  const elapsed = (now - stats.startedAt) / 1000;
  if (finishedHere <= 0 || elapsed <= 0) return undefined;
  return remaining / (finishedHere / elapsed);
}

/**
 * What a line can do without, least important first:
 * - token rates with no token limit set (interesting, but nothing to compare them with);
 * - the run's label (the plan line printed before the run already says it);
 * - the bar (the done/total numbers say the same), or in a plain line the word "done";
 * - token rates against a limit;
 * - exact counts (`123,456/1,000,000` becomes `123k/1M`).
 */
type Piece = 'unlimitedTokenRates' | 'label' | 'bar' | 'doneWord' | 'limitedTokenRates' | 'exactCounts';
const BAR_SHEDDING: readonly Piece[] = ['unlimitedTokenRates', 'label', 'bar', 'limitedTokenRates', 'exactCounts'];
const PLAIN_SHEDDING: readonly Piece[] = ['unlimitedTokenRates', 'label', 'doneWord', 'limitedTokenRates', 'exactCounts'];

/** Longest plain status line: logs have no width, but a longer line is hard to read. */
export const PLAIN_MAX = 100;
const MAX_BAR = 20;
const MIN_BAR = 5;

/**
 * The richest line that fits: sheds pieces in `order` until `render` returns a line, then gives
 * back any shed piece (most important first) that fits after all, e.g. the bar once token rates
 * are gone. When nothing fits, the leanest line (the terminal cuts it).
 */
function fit(order: readonly Piece[], render: (shed: ReadonlySet<Piece>, force?: boolean) => string | undefined): string {
  for (let k = 0; k <= order.length; k += 1) {
    let shed = new Set(order.slice(0, k));
    let line = render(shed);
    if (line === undefined) continue;
    for (const piece of order.slice(0, k).reverse()) {
      const trial = new Set(shed);
      trial.delete(piece);
      const richer = render(trial);
      if (richer !== undefined) [shed, line] = [trial, richer];
    }
    return line;
  }
  return render(new Set(order), true)!;
}

interface Rate {
  value: number;
  limit: number | undefined;
  unit: string;
  tokens: boolean;
}

/** Only the rates that mean something for this run: a limit is known or something was sent. */
function rates(stats: RunStats, shed: ReadonlySet<Piece>): Rate[] {
  const all: Rate[] = [
    { value: stats.requestsPerMinute, limit: stats.limits.rpm, unit: 'req/min', tokens: false },
    { value: stats.inputTokensPerMinute, limit: stats.limits.itpm, unit: 'in/min', tokens: true },
    { value: stats.outputTokensPerMinute, limit: stats.limits.otpm, unit: 'out/min', tokens: true },
  ];
  return all.filter((r) => {
    if (r.limit === undefined && r.value <= 0) return false;
    if (!r.tokens) return true;
    return !shed.has(r.limit === undefined ? 'unlimitedTokenRates' : 'limitedTokenRates');
  });
}

/** `req/min 598/600`, `in/min 45k`: the same short form in the bar and the log line. */
const formatRate = (r: Rate) => `${r.unit} ${formatCompact(r.value)}${r.limit === undefined ? '' : `/${formatCompact(r.limit)}`}`;

function eta(stats: RunStats, now: number): string {
  const s = etaSeconds(stats, now);
  return `ETA ${s === undefined ? '?' : formatEta(s)}`;
}

/** The pieces both lines share; `done` is the done/total piece in the line's own wording. */
function numbers(stats: RunStats, now: number, shed: ReadonlySet<Piece>, style: 'plain' | 'bar'): string {
  const count = shed.has('exactCounts') ? formatCompact : formatCount;
  const done = `${count(stats.done)}/${count(stats.total)}`;
  return [
    style === 'plain' && !shed.has('doneWord') ? `${done} done` : done,
    `${count(stats.succeeded)} ok`,
    `${count(stats.errored)} err`,
    ...rates(stats, shed).map(formatRate),
    `${formatCount(stats.rateLimited)} 429s`,
    ...(stats.waiting ? [`waiting: ${stats.waiting}`] : []),
    eta(stats, now),
  ].join(' · ');
}

const width = (s: string) => Array.from(s).length;

/** `[12:03:10] realtime 1,200/5,000 done · 1,180 ok · 20 err · req/min 598/600 · 0 429s · ETA 6m20s`, at most PLAIN_MAX long. */
export function plainStatus(stats: RunStats, label: string | undefined, now: number): string {
  const clock = `[${formatClock(new Date(now))}] `;
  return fit(PLAIN_SHEDDING, (shed, force) => {
    const line = `${clock}${label && !shed.has('label') ? `${label} ` : ''}${numbers(stats, now, shed, 'plain')}`;
    return force || width(line) <= PLAIN_MAX ? line : undefined;
  });
}

/**
 * `realtime ████████░░░░ 1,200/5,000 · 1,180 ok · 20 err · req/min 598/600 · 0 429s · ETA 6m20s`,
 * within `columns`: the bar shrinks, then the pieces above go, so an 80-column terminal still shows
 * every number that matters.
 */
export function barStatus(stats: RunStats, label: string | undefined, now: number, columns = 120): string {
  // One column is kept free (see BarTerminal.write), and one more for safety against wide glyphs.
  const max = columns - 2;
  return fit(BAR_SHEDDING, (shed, force) => {
    const prefix = label && !shed.has('label') ? `${label} ` : '';
    const text = numbers(stats, now, shed, 'bar');
    if (shed.has('bar')) return force || width(prefix + text) <= max ? prefix + text : undefined;
    // One more column separates the bar from the numbers.
    const room = max - width(prefix + text) - 1;
    if (room < MIN_BAR) return undefined;
    const barWidth = Math.min(MAX_BAR, room);
    const fraction = stats.total > 0 ? Math.min(1, stats.done / stats.total) : 1;
    const filled = Math.round(fraction * barWidth);
    return `${prefix}${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${text}`;
  });
}
