/**
 * The event log of one run: what happened each second (requests sent, answers, 429s, tokens, in
 * flight, the limits in force, latency, cost so far), kept in the state dir as JSONL so that
 * `claw-batch report` can draw the run afterwards, or while it is still going.
 *
 * Rows are per-second buckets, built from the run's live numbers (RunStats, cumulative) as the
 * progress display receives them: each sample's difference from the last one goes into the bucket
 * of the sample's time. Latency and the type of each failure come from the attempts themselves.
 *
 * Bounded for a 1M-item job: buckets are 1 s for the first hour, 10 s up to twelve hours, a minute
 * after that (at 1,000 RPM a million items is ~17 h: about 7,500 rows, ~1 MB); each error type
 * keeps its count and its first few examples. Rows are appended every few seconds, so a run that
 * is killed still leaves what it did.
 *
 * Format (one JSON object a line):
 *   {"kind":"header","v":1,"id":…,"command":"run","mode":"realtime","startedAt":ms,"output":…,…}
 *   {"t":12,"s":1,"req":10,"ok":9,"err":0,"rl":1,"retry":1,"fault":0,"in":…,"out":…,"fl":7,"done":…,"usd":…,"p50":…,"p90":…,"lim":{…}}
 *   … "errs":{"overloaded_error":2,"invalid_request_error!":1} (`!`: written as errored)
 *   {"kind":"error","t":12,"type":"rate_limit_error","custom_id":"a7","message":"…","final":false}
 *   {"kind":"mark","t":…,"text":"deadline cut-over: …"}
 *   {"kind":"end","t":…,"summary":{…}}
 * `t` is seconds since startedAt; `s` the bucket's width; `lim` only when the limits changed;
 * `usd` and `done` are running totals.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stateDir } from '../state-dir.js';
import type { RateLimits, RunStats } from '../ui/stats.js';

export const EVENT_LOG_VERSION = 1;

/** Examples kept per error type (the rest are counted). */
export const ERROR_EXAMPLES = 5;
/** Rows are appended to the file this often. */
const FLUSH_MS = 5_000;

export interface EventLogHeader {
  kind: 'header';
  v: number;
  id: string;
  command: string;
  mode: string;
  startedAt: number;
  /** Absolute path of the results file, null for stdout. */
  output: string | null;
  input?: string;
  items?: number;
  /** planObject() of the plan the run chose, when it made one. */
  plan?: Record<string, unknown>;
}

export interface EventRow {
  t: number;
  s: number;
  req: number;
  ok: number;
  err: number;
  rl: number;
  retry: number;
  fault: number;
  in: number;
  out: number;
  fl: number;
  done: number;
  usd?: number;
  p50?: number;
  p90?: number;
  lim?: RateLimits;
  /** Failures in this bucket by error type; `type!` for those written as errored (not retried). */
  errs?: Record<string, number>;
  /** Batch jobs: the batches' request counts at this time. */
  batch?: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
}

/** What the attempts tell the log directly (the rest it reads off RunStats). */
export interface AttemptEvents {
  /** An answer arrived `latencyMs` after its request was sent. */
  answered(latencyMs: number): void;
  /** A request failed with `type`; `final`: the item was written as errored (not retried). */
  failed(type: string, customId: string, message: string, final: boolean): void;
}

/** Where run logs live: `<state dir>/runs/<id>.events.jsonl`. */
export function runsDir(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'runs');
}

export function eventLogPath(env: NodeJS.ProcessEnv, id: string): string {
  return join(runsDir(env), `${id}.events.jsonl`);
}

/** `run_20261207_031500_a3f9`, sortable by start time like job ids. */
export function newRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  return `run_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}_${randomBytes(2).toString('hex')}`;
}

/** The bucket width at `elapsedS` seconds into a run (coarser as it gets long, to stay bounded). */
export function bucketSeconds(elapsedS: number): number {
  if (elapsedS < 3_600) return 1;
  if (elapsedS < 12 * 3_600) return 10;
  return 60;
}

type Counters = Pick<RunStats, 'requestsSent' | 'succeeded' | 'errored' | 'rateLimited' | 'retried' | 'faults' | 'inputTokens' | 'outputTokens' | 'cacheWriteTokens' | 'done'>;
const COUNTERS = ['requestsSent', 'succeeded', 'errored', 'rateLimited', 'retried', 'faults', 'inputTokens', 'outputTokens', 'cacheWriteTokens', 'done'] as const;

interface Bucket {
  t: number;
  s: number;
  delta: Counters;
  inFlight: number;
  latencies: number[];
  errs: Record<string, number>;
  batch?: EventRow['batch'];
}

export class EventLog implements AttemptEvents {
  readonly path: string;
  readonly id: string;
  readonly startedAt: number;
  private readonly spentUsd?: () => number;
  private last: Counters | undefined;
  private bucket: Bucket | undefined;
  private pending: string[] = [];
  private lastLimits = '';
  /** Limits that changed since the last row (a row carries them only then). */
  private limitsChanged: RateLimits | undefined;
  private lastFlush = 0;
  private readonly errorCounts = new Map<string, number>();
  private readonly onBroken?: (message: string) => void;
  private unwritable = false;
  private closed = false;

  /**
   * Starts a log (the header is written at once). `spentUsd`: the cost meter's running total.
   * `onBroken`: told once if the log cannot be written (the run goes on without it).
   */
  constructor(
    env: NodeJS.ProcessEnv,
    header: Omit<EventLogHeader, 'kind' | 'v' | 'startedAt'> & { startedAt?: number },
    options: { spentUsd?: () => number; onBroken?: (message: string) => void; headerWritten?: boolean } = {},
  ) {
    this.id = header.id;
    this.startedAt = header.startedAt ?? Date.now();
    this.path = eventLogPath(env, header.id);
    this.spentUsd = options.spentUsd;
    this.onBroken = options.onBroken;
    try {
      mkdirSync(runsDir(env), { recursive: true });
    } catch {
      // reported by the first append
    }
    if (!options.headerWritten) {
      const { kind: _kind, v: _v, ...fields } = header as Partial<EventLogHeader>;
      this.pending.push(JSON.stringify({ kind: 'header', v: EVENT_LOG_VERSION, ...fields, startedAt: this.startedAt }));
      this.flush();
    }
  }

  /**
   * The log of a Batches API job, which several processes write in turn (`submit`, then each
   * `poll`): the file is appended to under the job's id, and its header (with the job's start) is
   * written only by the first. A later process's first sample is its baseline, so counts already
   * logged are not counted again; the batches' counts in the rows are absolute.
   */
  static forJob(env: NodeJS.ProcessEnv, header: Omit<EventLogHeader, 'kind' | 'v'>, options: { spentUsd?: () => number; onBroken?: (message: string) => void } = {}): EventLog {
    const existing = readHeaderSync(eventLogPath(env, header.id));
    const log = new EventLog(env, existing ?? header, { ...options, headerWritten: existing !== undefined });
    if (existing) log.resumed = true;
    return log;
  }

  private resumed = false;

  /** The run's numbers now (cumulative); cheap, called as often as the progress display is. */
  sample(stats: RunStats, now = Date.now()): void {
    if (this.closed) return;
    const bucket = this.bucketAt(now);
    // Items already done before the run (resume) are no part of what it did; a job's later process
    // starts from what it sees first.
    const last = this.last ?? (this.resumed ? pick(stats) : { ...zero(), succeeded: stats.skipped, done: stats.skipped });
    for (const k of COUNTERS) bucket.delta[k] += stats[k] - last[k];
    this.last = pick(stats);
    bucket.inFlight = Math.max(bucket.inFlight, stats.inFlight);
    const limits = JSON.stringify(stats.limits ?? {});
    if (limits !== this.lastLimits) {
      this.lastLimits = limits;
      this.limitsChanged = stats.limits;
    }
    if (now - this.lastFlush >= FLUSH_MS) this.flush(now);
  }

  answered(latencyMs: number, now = Date.now()): void {
    if (this.closed) return;
    this.bucketAt(now).latencies.push(latencyMs);
  }

  failed(type: string, customId: string, message: string, final: boolean, now = Date.now()): void {
    if (this.closed) return;
    const n = (this.errorCounts.get(type) ?? 0) + 1;
    this.errorCounts.set(type, n);
    const key = final ? `${type}!` : type;
    const errs = this.bucketAt(now).errs;
    errs[key] = (errs[key] ?? 0) + 1;
    // Each type's count is in the rows; its first few examples get a line each.
    if (n <= ERROR_EXAMPLES) {
      this.pending.push(JSON.stringify({ kind: 'error', t: this.elapsed(now), type, custom_id: customId, message: message.slice(0, 300), final }));
    }
  }

  /** A moment worth a line on the chart (a deadline's cut-over, a phase change). */
  mark(text: string, now = Date.now()): void {
    if (this.closed) return;
    this.pending.push(JSON.stringify({ kind: 'mark', t: this.elapsed(now), text }));
    this.flush(now);
  }

  /**
   * A new part of the run begins (real time after a deadline's cut-over) with numbers of its own:
   * marked, and its first sample is the new baseline.
   */
  startPhase(text: string, now = Date.now()): void {
    this.mark(text, now);
    this.last = undefined;
  }

  /** Batch jobs: the batches' request counts, as the poller saw them. */
  batchProgress(counts: NonNullable<EventRow['batch']>, now = Date.now()): void {
    if (this.closed) return;
    this.bucketAt(now).batch = counts;
  }

  /** The last numbers, the summary (summaryObject), and the file is complete. */
  close(stats: RunStats | undefined, summary: Record<string, unknown>, now = Date.now()): void {
    if (this.closed) return;
    if (stats) this.sample(stats, now);
    this.closeBucket();
    this.pending.push(JSON.stringify({ kind: 'end', t: this.elapsed(now), summary }));
    this.flush(now);
    this.closed = true;
  }

  private elapsed(now: number): number {
    return Math.max(0, Math.floor((now - this.startedAt) / 1000));
  }

  private bucketAt(now: number): Bucket {
    const elapsed = this.elapsed(now);
    const width = bucketSeconds(elapsed);
    const t = elapsed - (elapsed % width);
    if (this.bucket && this.bucket.t === t) return this.bucket;
    this.closeBucket();
    this.bucket = { t, s: width, delta: zero(), inFlight: 0, latencies: [], errs: {} };
    return this.bucket;
  }

  private closeBucket(): void {
    const b = this.bucket;
    if (!b) return;
    this.bucket = undefined;
    const d = b.delta;
    const row: EventRow = {
      t: b.t,
      s: b.s,
      req: d.requestsSent,
      ok: d.succeeded,
      err: d.errored,
      rl: d.rateLimited,
      retry: d.retried,
      fault: d.faults,
      in: d.inputTokens + d.cacheWriteTokens,
      out: d.outputTokens,
      fl: b.inFlight,
      done: this.last?.done ?? 0,
    };
    if (this.spentUsd) row.usd = Math.round(this.spentUsd() * 1e6) / 1e6;
    if (b.latencies.length > 0) {
      const sorted = b.latencies.sort((x, y) => x - y);
      row.p50 = Math.round(quantile(sorted, 0.5));
      row.p90 = Math.round(quantile(sorted, 0.9));
    }
    if (this.limitsChanged) {
      row.lim = this.limitsChanged;
      this.limitsChanged = undefined;
    }
    if (Object.keys(b.errs).length > 0) row.errs = b.errs;
    if (b.batch) row.batch = b.batch;
    this.pending.push(JSON.stringify(row));
  }

  /** Writes what is pending now (for a live report), the current bucket included. */
  flushNow(now = Date.now()): void {
    if (this.closed) return;
    this.closeBucket();
    this.flush(now);
  }

  private flush(now = Date.now()): void {
    this.lastFlush = now;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    if (this.unwritable) return;
    try {
      appendFileSync(this.path, text);
    } catch (err) {
      this.unwritable = true;
      this.onBroken?.(`could not write the run's event log ${this.path} (${err instanceof Error ? err.message : String(err)}); the run goes on without it`);
    }
  }
}

/** The header of an existing log, if there is one (the first line, read synchronously: it is small). */
function readHeaderSync(path: string): EventLogHeader | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(16_384);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const rec = JSON.parse(buf.subarray(0, n).toString('utf8').split('\n', 1)[0]!) as EventLogHeader;
    return rec.kind === 'header' ? rec : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function zero(): Counters {
  return { requestsSent: 0, succeeded: 0, errored: 0, rateLimited: 0, retried: 0, faults: 0, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, done: 0 };
}

function pick(stats: RunStats): Counters {
  const out = zero();
  for (const k of COUNTERS) out[k] = stats[k];
  return out;
}

/** Linear interpolation between the nearest ranks of a sorted array. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
