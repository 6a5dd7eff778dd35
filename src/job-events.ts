/**
 * A `run` job as events, for a program that runs one in-process (the library's `runJob`) rather
 * than reading the CLI's progress display; and how such a caller stops it. The CLI itself passes
 * no sink and stops through the same signal (its Ctrl-C handler aborts it).
 */
import type { StoppedError } from './errors.js';
import type { Progress } from './ui/progress.js';
import type { RunStats } from './ui/stats.js';
import type { SummaryObject } from './ui/summary.js';

/** The summary a job ends with: the same object `claw-batch run --json` prints (snake_case keys). */
export type JobSummary = SummaryObject & {
  mode: 'realtime' | 'batch';
  /** Real time: why it stopped early (a StopReason), else null. */
  stopped?: string | null;
  /** Batch mode: the job id. */
  job?: string | null;
};

export type JobEvent =
  /** Sending begins (after the input was checked and the plan made). */
  | { type: 'started'; mode: 'realtime' | 'batch'; total: number; pending: number; alreadyDone: number }
  /** The live numbers, up to ten times a second while requests come and go; every poll in batch mode. */
  | {
      type: 'progress';
      total: number;
      done: number;
      succeeded: number;
      /** Items whose result line is an error (errored, expired, canceled). */
      failed: number;
      /** Items without a result line yet. */
      pending: number;
      inFlight: number;
      /** Live rates over the last few seconds, per minute. */
      rpm: number;
      itpm: number;
      otpm: number;
      rateLimited: number;
      retried: number;
      etaSeconds?: number;
    }
  /** Every request of a model class waits: the API answered 429, and its `retry-after` runs until `untilMs` (epoch ms). */
  | { type: 'paused'; reason: 'rate-limited'; untilMs: number }
  /** A line the CLI would print above its progress bar (resuming, a store gone, a stop, silent connections). */
  | { type: 'notice'; level: 'info' | 'warning'; message: string }
  /** The job has ended: every item done, or stopped early (`stopped`; a rerun resumes). */
  | { type: 'finished'; exitCode: 0 | 1 | 3; summary: JobSummary; stopped?: StoppedError };

export type JobEventSink = (event: JobEvent) => void;

/** What a caller controls a running job by. */
export interface JobControl {
  /**
   * Aborted: no new item is taken (real time: requests in flight get the stop grace to finish,
   * then stay pending; batch: the wait ends, the batches keep running). Its `reason`, when a
   * signal name (`SIGINT`), starts the line that says so.
   */
  signal?: AbortSignal;
  onEvent?: JobEventSink;
}

/** Never aborted: for a job run without a signal. */
export const NEVER: AbortSignal = new AbortController().signal;

/** Whether the stop came from a process signal (the CLI's Ctrl-C: a second one exits at once). */
export function byProcessSignal(signal: AbortSignal): boolean {
  return typeof signal.reason === 'string' && /^SIG[A-Z]+$/.test(signal.reason);
}

/** How the stop is named in the line that tells of it: the signal, or `aborted`. */
export function stopName(signal: AbortSignal): string {
  return byProcessSignal(signal) ? (signal.reason as string) : 'aborted';
}

/** Calls `onAbort` once when `signal` aborts (at once if it has); returns the unsubscribe. */
export function onAbort(signal: AbortSignal, onAbort: () => void): () => void {
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** The progress display, also told to `sink`: its updates as progress (and pause) events, its lines as notices. */
export function withEvents(progress: Progress, sink: JobEventSink | undefined): Progress {
  if (!sink) return progress;
  let pausedUntil = 0;
  return {
    update(stats: RunStats) {
      progress.update(stats);
      if (stats.pausedUntil !== undefined && stats.pausedUntil > pausedUntil && stats.pausedUntil > Date.now()) {
        pausedUntil = stats.pausedUntil;
        sink({ type: 'paused', reason: 'rate-limited', untilMs: pausedUntil });
      }
      sink({
        type: 'progress',
        total: stats.total,
        done: stats.done,
        succeeded: stats.succeeded,
        failed: stats.errored,
        pending: Math.max(0, stats.total - stats.done),
        inFlight: stats.inFlight,
        rpm: stats.requestsPerMinute,
        itpm: stats.inputTokensPerMinute,
        otpm: stats.outputTokensPerMinute,
        rateLimited: stats.rateLimited,
        retried: stats.retried,
        etaSeconds: stats.etaSeconds,
      });
    },
    info(message) {
      progress.info(message);
      sink({ type: 'notice', level: 'info', message });
    },
    warn(message) {
      progress.warn(message);
      sink({ type: 'notice', level: 'warning', message });
    },
    error(message) {
      progress.error(message);
      sink({ type: 'notice', level: 'warning', message });
    },
    stop: () => progress.stop(),
  };
}
