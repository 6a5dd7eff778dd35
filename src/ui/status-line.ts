/**
 * The one-line status of a run in progress: the compact bar text (TTY) and the plain log line
 * (non-TTY, e.g. cron or CI logs).
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

interface Rate {
  unit: string;
  value: number;
  limit: number | undefined;
}

/** Only the rates that mean something for this run: a limit is known or something was sent. */
function rates(stats: RunStats): Rate[] {
  const all: Rate[] = [
    { unit: 'req/min', value: stats.requestsPerMinute, limit: stats.limits.rpm },
    { unit: 'in tok/min', value: stats.inputTokensPerMinute, limit: stats.limits.itpm },
    { unit: 'out tok/min', value: stats.outputTokensPerMinute, limit: stats.limits.otpm },
  ];
  return all.filter((r) => r.limit !== undefined || r.value > 0);
}

function eta(stats: RunStats, now: number): string {
  const s = etaSeconds(stats, now);
  return `ETA ${s === undefined ? '?' : formatEta(s)}`;
}

/** `[12:03:10] realtime 1,200/5,000 done (1,180 ok, 20 errored) · 598 req/min (limit 600) · 0 429s · ETA 6m20s` */
export function plainStatus(stats: RunStats, label: string | undefined, now: number): string {
  const parts = [
    `[${formatClock(new Date(now))}] ${label ? `${label} ` : ''}${formatCount(stats.done)}/${formatCount(stats.total)} done` +
      ` (${formatCount(stats.succeeded)} ok, ${formatCount(stats.errored)} errored)`,
    ...rates(stats).map(
      (r) => `${formatCount(r.value)} ${r.unit}${r.limit === undefined ? '' : ` (limit ${formatCount(r.limit)})`}`,
    ),
    `${formatCount(stats.rateLimited)} 429s`,
    eta(stats, now),
  ];
  return parts.join(' · ');
}

const MAX_BAR = 20;
const MIN_BAR = 5;

/**
 * `realtime ████████░░░░ 1,200/5,000 · 1,180 ok · 20 err · req/min 598/600 · 0 429s · ETA 6m20s`.
 * The bar shrinks (or goes) before any number does, so an 80-column terminal still shows the ETA.
 */
export function barStatus(stats: RunStats, label: string | undefined, now: number, columns = 120): string {
  const shortUnit: Record<string, string> = { 'req/min': 'req/min', 'in tok/min': 'in/min', 'out tok/min': 'out/min' };
  const numbers = [
    `${formatCount(stats.done)}/${formatCount(stats.total)}`,
    `${formatCount(stats.succeeded)} ok`,
    `${formatCount(stats.errored)} err`,
    ...rates(stats).map(
      (r) => `${shortUnit[r.unit]} ${formatCompact(r.value)}${r.limit === undefined ? '' : `/${formatCompact(r.limit)}`}`,
    ),
    `${formatCount(stats.rateLimited)} 429s`,
    eta(stats, now),
  ].join(' · ');
  const prefix = label ? `${label} ` : '';
  // One column is kept free (see BarTerminal.write), one more separates the bar from the numbers.
  const room = columns - 2 - Array.from(prefix + numbers).length - 1;
  const width = Math.min(MAX_BAR, room);
  if (width < MIN_BAR) return `${prefix}${numbers}`;
  const fraction = stats.total > 0 ? Math.min(1, stats.done / stats.total) : 1;
  const filled = Math.round(fraction * width);
  return `${prefix}${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${numbers}`;
}
