/**
 * The end-of-run summary: a few human lines on stderr, or one JSON object for `--json`.
 */
import type { RunStats } from './stats.js';
import { colors, useColor } from './color.js';
import { formatCount, formatDuration, plural } from './format.js';

/**
 * What the run cost at list price, worked out by the caller from the usage the API returned
 * (src/plan/cost.ts); the ui only shows it.
 */
export interface CostLine {
  /** US$ of the priced models; null when no model used has a price (tokens only). */
  usd: number | null;
  /** The same usage the other way (real-time ↔ Batches API). */
  otherWayUsd: number | null;
  /** For people: `$0.42 at list price — the Batches API would have saved $0.21`. */
  text: string;
}

/**
 * Counts what a run spends as answers arrive and says it for the summary. Made by the command
 * (src/plan/cost.ts has the prices) and handed to the layers that see the answers.
 */
export interface CostMeter {
  /** An answer's `usage` (the API's Usage object), for `model`; `batch`: through the Batches API. */
  add(model: string, usage: object, options?: { batch?: boolean }): void;
  /** US$ spent so far on priced models. */
  spentUsd(): number;
  line(): CostLine | undefined;
}

/** Requests actually sent per minute over the whole run (what the limiter achieved). */
export function achievedRequestsPerMinute(stats: RunStats, wallMs: number): number {
  return wallMs > 0 ? (stats.requestsSent * 60_000) / wallMs : 0;
}

/**
 * Shorter runs than this show the achieved rate without the limit: the API lets an opening burst
 * through (its bucket starts full), so over a few seconds the average can sit well above a limit
 * that was kept, e.g. "1,237 req/min (limit 600)" for 2 items — true, but it reads as a breach.
 */
export const RATE_COMPARISON_MIN_MS = 60_000;

/** Multi-line, for people. Ends without a newline. */
/**
 * `wallMs`: the whole run's time, for the headline; `sendingMs`: the part spent sending in real
 * time, for the rate achieved (after a deadline's cut-over the batch's time is no part of it).
 */
export function formatSummary(stats: RunStats, opts: { wallMs: number; sendingMs?: number; color: boolean; batch?: boolean; cost?: CostLine; report?: string }): string {
  const c = colors(opts.color);
  const row = (label: string, value: number, paint: (s: string) => string = (s) => s, note = '') =>
    `  ${c.dim(label.padEnd(10))} ${paint(formatCount(value).padStart(12))}${note ? `   ${note}` : ''}`;
  const pending = Math.max(0, stats.total - stats.done);
  const sendingMs = opts.sendingMs ?? opts.wallMs;
  const rpm = achievedRequestsPerMinute(stats, sendingMs);
  const limit =
    stats.limits.rpm === undefined || sendingMs < RATE_COMPARISON_MIN_MS ? '' : ` (limit ${formatCount(stats.limits.rpm)})`;
  // A stopped run must not read as if it handled every item.
  const headline =
    pending > 0
      ? `${formatCount(stats.done)} of ${plural(stats.total, 'item')} done in ${formatDuration(opts.wallMs)}`
      : `${plural(stats.total, 'item')} in ${formatDuration(opts.wallMs)}`;

  const lines = [
    c.bold(headline),
    row('succeeded', stats.succeeded, stats.succeeded > 0 ? c.green : undefined),
    row('errored', stats.errored, stats.errored > 0 ? c.red : undefined),
    row('skipped', stats.skipped, undefined, 'already in the output'),
  ];
  if (pending > 0) lines.push(row('pending', pending, c.yellow, 'not done: rerun the same command to resume'));
  lines.push(
    row('retried', stats.retried, undefined, stats.schemaRetries > 0 ? `${formatCount(stats.schemaRetries)} of them for an answer that failed its schema` : undefined),
    row('429s', stats.rateLimited, stats.rateLimited > 0 ? c.yellow : undefined),
    row('faults', stats.faults, stats.faults > 0 ? c.yellow : undefined),
    opts.batch
      ? row('requests', stats.requestsSent, undefined, 'sent through the Message Batches API')
      : row('requests', stats.requestsSent, undefined, `${formatCount(rpm)} req/min achieved${limit}`),
    `  ${c.dim('tokens'.padEnd(10))} ${formatCount(stats.inputTokens)} in · ${formatCount(stats.outputTokens)} out`,
  );
  if (stats.cacheWriteTokens > 0 || stats.cacheReadTokens > 0) {
    lines.push(`  ${c.dim('cache'.padEnd(10))} ${formatCount(stats.cacheWriteTokens)} written · ${formatCount(stats.cacheReadTokens)} read`);
  }
  if (opts.cost) lines.push(`  ${c.dim('cost'.padEnd(10))} ${opts.cost.text}`);
  if (opts.report) lines.push(`  ${c.dim('report'.padEnd(10))} ${opts.report}`);
  return lines.join('\n');
}

/** The numbers of the `--json` summary. */
export interface SummaryObject {
  items: number;
  succeeded: number;
  errored: number;
  skipped: number;
  pending: number;
  retried: number;
  /** Of `retried`: those for an answer that failed its schema. */
  schema_retries: number;
  rate_limited: number;
  faults: number;
  requests: number;
  wall_seconds: number;
  requests_per_minute: number;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  cost_usd: number | null;
  cost_other_way_usd: number | null;
  limits: Record<string, number>;
}

/** The same numbers for `--json` (printed as one line on stderr), snake_case keys. */
export function summaryObject(stats: RunStats, opts: { wallMs: number; sendingMs?: number; cost?: CostLine }): SummaryObject {
  const limits: Record<string, number> = {};
  if (stats.limits.rpm !== undefined) limits.rpm = stats.limits.rpm;
  if (stats.limits.itpm !== undefined) limits.itpm = stats.limits.itpm;
  if (stats.limits.otpm !== undefined) limits.otpm = stats.limits.otpm;
  return {
    items: stats.total,
    succeeded: stats.succeeded,
    errored: stats.errored,
    skipped: stats.skipped,
    pending: Math.max(0, stats.total - stats.done),
    retried: stats.retried,
    schema_retries: stats.schemaRetries,
    rate_limited: stats.rateLimited,
    faults: stats.faults,
    requests: stats.requestsSent,
    wall_seconds: Math.round(opts.wallMs) / 1000,
    requests_per_minute: Math.round(achievedRequestsPerMinute(stats, opts.sendingMs ?? opts.wallMs) * 10) / 10,
    input_tokens: stats.inputTokens,
    output_tokens: stats.outputTokens,
    cache_write_tokens: stats.cacheWriteTokens,
    cache_read_tokens: stats.cacheReadTokens,
    cost_usd: opts.cost ? opts.cost.usd : null,
    cost_other_way_usd: opts.cost ? opts.cost.otherWayUsd : null,
    limits,
  };
}

/**
 * The end-of-run summary on stderr: one JSON object with `json` (`fields` first, e.g. the mode),
 * lines for people otherwise, nothing with `quiet`.
 */
export function writeSummary(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  stats: RunStats,
  opts: { wallMs: number; sendingMs?: number; json?: boolean; quiet?: boolean; batch?: boolean; cost?: CostLine; fields?: Record<string, unknown>; report?: string },
): void {
  const { wallMs, sendingMs, cost } = opts;
  if (opts.json) {
    stream.write(`${JSON.stringify({ ...opts.fields, ...summaryObject(stats, { wallMs, sendingMs, cost }) })}\n`);
  } else if (!opts.quiet) {
    stream.write(`${formatSummary(stats, { wallMs, sendingMs, color: useColor(stream, env), batch: opts.batch, cost, report: opts.report })}\n`);
  }
}
