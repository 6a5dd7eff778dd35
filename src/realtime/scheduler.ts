/**
 * The real-time scheduler: streams items from the input into one lane per model class, where each
 * request is paced by its class's budget (src/limits/), and writes exactly one result line per
 * finished item. Items it did not finish (a stop, a signal) stay unwritten, so rerunning the same
 * command picks them up. What one request goes through is in attempt.ts; what a failure means, in
 * failure-handling.ts.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Settings } from '../config.js';
import { StoppedError } from '../errors.js';
import { AccountBudget } from '../limits/account-budget.js';
import { modelClass } from '../limits/model-class.js';
import { cachePlan, PromptCacheTracker } from '../limits/prompt-cache.js';
import type { RateLimits } from '../limits/types.js';
import type { ResultWriter } from '../output/index.js';
import { sleep } from '../sleep.js';
import type { Item } from '../types.js';
import { formatDuration } from '../ui/format.js';
import { emptyStats, type RunStats } from '../ui/stats.js';
import { attemptItem, type AttemptContext, type AttemptOutcome, type RequestTimeouts, type Work } from './attempt.js';
import { ClassLane } from './class-lane.js';
import { LiveRates } from './live-rates.js';
import { RunControl } from './run-control.js';
import { StallWatch } from './stall-watch.js';

/** The settings the scheduler uses (src/config.ts documents each and its default). */
export type SchedulerSettings = Pick<Settings, 'concurrency' | 'delayMs' | 'maxAttempts' | 'rpm'> & {
  timeouts: RequestTimeouts;
  /** After Ctrl-C, requests in flight get this long to finish before they are given up (pending). */
  stopGraceMs: number;
};

export interface RealtimeRun {
  client: Anthropic;
  /** The account's budgets (store, fingerprint, given and known limits). */
  account: AccountBudget;
  items: AsyncIterable<Item>;
  /** Items in the input. */
  total: number;
  /** Model classes in the input (several: each class's items are read ahead past the others'). */
  modelClasses?: number;
  /** True for items a previous run already finished (resume): they are skipped and counted as done. */
  isDone: (customId: string) => boolean;
  /**
   * How many of the input's items `isDone` will skip, when known up front: they count as done from
   * the start, so a run stopped early does not report them as pending.
   */
  alreadyDone?: number;
  writer: ResultWriter;
  settings: SchedulerSettings;
  /** Aborted when the user asks to stop: no new items are taken; in-flight ones get a grace period. */
  signal: AbortSignal;
  /** Called whenever the numbers change (cheap; the UI throttles). */
  onProgress?: (stats: RunStats) => void;
  /** Called for notable events (a 429 pause, a stop, silent connections), one line each. */
  onNotice?: (message: string) => void;
  onAnswer?: AttemptContext['onAnswer'];
  /** `--max-cost`. */
  spend?: AttemptContext['spend'];
  /** The run's event log, for the report. */
  events?: AttemptContext['events'];
  random?: () => number;
}

export interface RealtimeOutcome {
  stats: RunStats;
  /** Set when the run stopped before every item was done. */
  stopped?: StoppedError;
  /** Prompt-cache writes and reads the API reported. */
  cache: { writes: number; reads: number };
  /** Mean output tokens per answer, per model class (the next plan's expected output). */
  outputMeans: Map<string, number>;
}

/** A lane reads ahead at least this many items (queued, parked or backing off), or twice its in-flight count. */
const MIN_READ_AHEAD = 256;
/**
 * With several model classes in one input, a class held back by its own limit must not hold up the
 * others: the feeder reads past its items, up to this many of them (or MAX_READ_AHEAD_CHARS of
 * their prompts), so each class runs at its own limit. Past that, memory wins: the faster classes
 * wait for the slowest one to make room.
 */
const MULTI_CLASS_READ_AHEAD = 10_000;
const MAX_READ_AHEAD_CHARS = 8_000_000;
/** Say something when requests have been silent this long (or a third of the first-byte timeout, if shorter). */
const QUIET_NOTICE_MS = 20_000;
/** On Ctrl-C, requests silent this long are given up at once instead of waiting out the grace. */
const STUCK_ON_STOP_MS = 2_000;

export async function runRealtime(run: RealtimeRun): Promise<RealtimeOutcome> {
  const scheduler = new Scheduler(run);
  return scheduler.run();
}

class Scheduler {
  private readonly job: RealtimeRun;
  private readonly lanes = new Map<string, ClassLane>();
  private readonly stats: RunStats;
  private readonly rates = new LiveRates();
  private readonly control: RunControl;
  private readonly stalls: StallWatch;
  private readonly cache = new PromptCacheTracker();
  private readonly ctx: AttemptContext;

  constructor(run: RealtimeRun) {
    this.job = run;
    this.stats = emptyStats(run.total);
    if (run.alreadyDone) {
      this.stats.skipped = this.stats.succeeded = this.stats.done = run.alreadyDone;
    }
    this.control = new RunControl((reason) => run.onNotice?.(`stopping: ${reason.message}`));
    this.stalls = new StallWatch(this.control.abandon);
    // Stopping: what is still queued is not started; those items stay pending, as they would anyway.
    this.control.noNewWork.addEventListener(
      'abort',
      () => {
        for (const lane of this.lanes.values()) for (let n = lane.dropQueued(); n > 0; n--) this.control.itemFinished();
      },
      { once: true },
    );
    this.ctx = {
      client: run.client,
      writer: run.writer,
      stats: this.stats,
      rates: this.rates,
      cache: this.cache,
      control: this.control,
      stalls: this.stalls,
      account: run.account,
      timeouts: run.settings.timeouts,
      maxAttempts: run.settings.maxAttempts,
      delayMs: run.settings.delayMs,
      random: run.random ?? Math.random,
      notice: (m) => run.onNotice?.(m),
      unreachable: { inARow: 0 },
      onAnswer: run.onAnswer,
      spend: run.spend,
      events: run.events,
    };
  }

  async run(): Promise<RealtimeOutcome> {
    const { job: run, control } = this;
    const onUserAbort = () => {
      control.requestStop(new StoppedError('interrupted', 'interrupted; requests in flight were given time to finish'), {
        graceMs: run.settings.stopGraceMs,
      });
      this.stalls.abandonQuiet(STUCK_ON_STOP_MS);
    };
    if (run.signal.aborted) onUserAbort();
    else run.signal.addEventListener('abort', onUserAbort, { once: true });
    const ticker = setInterval(() => this.tick(), 1000);
    ticker.unref();
    try {
      await this.feed();
      await control.settled;
      await Promise.all([...this.lanes.values()].map((l) => l.queue.onIdle()));
    } finally {
      clearInterval(ticker);
      control.dispose();
      run.signal.removeEventListener('abort', onUserAbort);
    }
    this.progress(true);
    const outputMeans = new Map<string, number>();
    for (const [cls, lane] of this.lanes) {
      const mean = lane.output.mean();
      if (mean !== undefined) outputMeans.set(cls, mean);
    }
    return { stats: this.stats, stopped: control.stopped, cache: { writes: this.cache.writes, reads: this.cache.reads }, outputMeans };
  }

  private async feed(): Promise<void> {
    const { job: run, control, stats } = this;
    try {
      for await (const item of run.items) {
        if (control.stopping) break;
        if (run.isDone(item.custom_id)) {
          if (run.alreadyDone === undefined) {
            stats.skipped += 1;
            stats.succeeded += 1;
            stats.done += 1;
          }
          continue;
        }
        const lane = this.lane(item.params.model);
        control.itemTaken();
        const work: Work = { item, plan: cachePlan(item.params), attempt: 1, rateLimited: 0 };
        lane.hold(work.plan.totalChars);
        this.enqueue(lane, work, false);
        // No race with the stop signal here (a race against a promise that never settles keeps a
        // reaction per call): once stopped, queued tasks return at once and the backlog drains.
        const readAhead = (run.modelClasses ?? 1) > 1 ? MULTI_CLASS_READ_AHEAD : Math.max(MIN_READ_AHEAD, lane.queue.concurrency * 2);
        await lane.roomFor(readAhead, MAX_READ_AHEAD_CHARS);
      }
    } finally {
      control.feederFinished();
    }
  }

  private lane(model: string): ClassLane {
    const cls = modelClass(model);
    let lane = this.lanes.get(cls);
    if (!lane) {
      lane = new ClassLane({ budget: this.job.account.forClass(cls), ceiling: this.job.settings.concurrency, givenRpm: this.job.settings.rpm });
      this.lanes.set(cls, lane);
    }
    return lane;
  }

  /** Puts work in its lane's queue; a retry or a woken parked item goes in front. */
  private enqueue(lane: ClassLane, work: Work, front: boolean): void {
    void lane.queue.add(() => this.attempt(lane, work), { priority: front ? 1 : 0 });
  }

  private async attempt(lane: ClassLane, work: Work): Promise<void> {
    lane.release(work.plan.totalChars);
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptItem(this.ctx, lane, work);
    } catch (err) {
      // The write (a full disk) or the bookkeeping after an answer failed: stop, lose nothing more.
      const message = err instanceof Error ? err.message : String(err);
      this.control.requestStop(new StoppedError('output', `could not record a result: ${message}`, { cause: err }));
      outcome = { kind: 'pending' };
    }
    this.progress();
    if (outcome.kind === 'finished' && this.job.writer.readerGone) {
      // Results piped into a program that has exited (`| head`): stop paying for answers nobody reads.
      this.control.requestStop(new StoppedError('output', 'the program reading the results has exited'));
    }
    switch (outcome.kind) {
      case 'finished':
        if (this.ctx.delayMs > 0) await sleep(this.ctx.delayMs, this.control.noNewWork);
        return this.control.itemFinished();
      case 'pending':
        return this.control.itemFinished();
      case 'park':
        lane.hold(work.plan.totalChars);
        void outcome.ready.then(() => this.requeue(lane, outcome.work));
        return;
      case 'retry':
        lane.hold(work.plan.totalChars);
        if (outcome.afterMs <= 0) return this.enqueue(lane, outcome.work, true);
        void sleep(outcome.afterMs, this.control.noNewWork).then(() => this.requeue(lane, outcome.work));
        return;
    }
  }

  /** Back in front of its lane, unless the run is stopping (then the item stays pending). */
  private requeue(lane: ClassLane, work: Work): void {
    if (this.control.stopping) {
      lane.release(work.plan.totalChars);
      this.control.itemFinished();
    } else this.enqueue(lane, work, true);
  }

  /** When silence is worth a notice: 20 s, or sooner under a short first-byte timeout. */
  private get quietNoticeMs(): number {
    return Math.min(QUIET_NOTICE_MS, Math.max(1000, Math.floor(this.job.settings.timeouts.firstByteMs / 3)));
  }

  private tick(): void {
    const timeouts = this.job.settings.timeouts;
    const notice = this.stalls.notice(this.quietNoticeMs, timeouts.firstByteMs);
    if (notice) this.job.onNotice?.(notice);
    this.progress(true);
  }

  private lastProgressAt = 0;

  /** Recomputes the live numbers for the display, at most ten times a second (it is called per answer). */
  private progress(force = false): void {
    const { stats } = this;
    const now = Date.now();
    if (!force && now - this.lastProgressAt < 100) return;
    this.lastProgressAt = now;
    const r = this.rates.perMinute(stats.startedAt, now);
    stats.requestsPerMinute = r.requests;
    stats.inputTokensPerMinute = r.inputTokens;
    stats.outputTokensPerMinute = r.outputTokens;
    stats.limits = this.limits();
    const left = stats.total - stats.done;
    stats.etaSeconds = r.done > 0 ? (left / r.done) * 60 : undefined;
    stats.waiting = this.waiting(now);
    stats.pausedUntil = this.pausedUntil(now);
    this.job.onProgress?.(stats);
  }

  /** The limits of the classes in use, added up: what the account allows this job per minute. */
  private limits(): RateLimits {
    const sum: RateLimits = {};
    for (const lane of this.lanes.values()) {
      const l = lane.budget.limits();
      for (const k of ['rpm', 'itpm', 'otpm'] as const) if (l[k] !== undefined) sum[k] = (sum[k] ?? 0) + l[k];
    }
    return sum;
  }

  /** When the latest 429 pause of any class ends, while one lasts. */
  private pausedUntil(now: number): number | undefined {
    let until: number | undefined;
    for (const lane of this.lanes.values()) {
      const hold = lane.budget.hold();
      if (hold?.heldBy === 'pause' && hold.until > now) until = Math.max(until ?? 0, hold.until);
    }
    return until;
  }

  /** What the run waits for, when it is something a person would want to know. */
  private waiting(now: number): string | undefined {
    for (const lane of this.lanes.values()) {
      const hold = lane.budget.hold();
      if (!hold) continue;
      const left = formatDuration(Math.max(0, hold.until - now));
      const what = hold.heldBy === 'pause' ? '429 pause' : hold.heldBy === 'requests' ? 'request limit' : hold.heldBy === 'inputTokens' ? 'input-token limit' : 'output-token limit';
      return `${what} ${left}`;
    }
    const quiet = this.stalls.longestQuietMs();
    if (quiet >= this.quietNoticeMs) return `no answer for ${formatDuration(quiet)}`;
    return undefined;
  }
}
