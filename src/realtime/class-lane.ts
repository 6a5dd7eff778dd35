/**
 * The requests of one model class: their budget, their queue, how many may be in flight, and what
 * their answers have taught (input tokens per character, output tokens per answer, latency). Each
 * class has a lane of its own, so an item never waits behind another class's limit: Haiku and
 * Sonnet items interleaved in one input run each at their own limit at the same time.
 */
import PQueue from 'p-queue';
import type { ClassBudget } from '../limits/class-budget.js';
import { InputEstimate } from '../limits/input-estimate.js';
import { OutputChars, OutputEstimate } from '../limits/output-estimate.js';
import { InFlightSizer } from './in-flight.js';

export interface ClassLaneOptions {
  budget: ClassBudget;
  /** `--concurrency`: the most in flight. */
  ceiling: number;
  /** `--rpm` as given: enables p-queue's strict interval cap as a backstop against edge bursts. */
  givenRpm?: number;
}

/** Weight of the newest answer in the running mean of input tokens per request. */
const MEAN_WEIGHT = 0.05;

export class ClassLane {
  readonly budget: ClassBudget;
  readonly queue: PQueue;
  readonly sizer: InFlightSizer;
  readonly input = new InputEstimate();
  readonly output = new OutputEstimate();
  /** Output tokens per character of a streamed answer, for charging output as it arrives. */
  readonly outputChars = new OutputChars();
  /** Items this lane holds that are not in flight: queued, parked for a cache write, or backing off. */
  private waitingItems = 0;
  /** Their prompt characters: a bound on the memory a read-ahead takes. */
  private waitingChars = 0;
  private roomWaiters: Array<() => void> = [];
  private inputMean: number | undefined;

  constructor(options: ClassLaneOptions) {
    this.budget = options.budget;
    this.sizer = new InFlightSizer({ ceiling: options.ceiling });
    // p-queue holds the line (the in-flight count, retries in front); the budget paces the starts,
    // its buckets refilled by elapsed time as the API's are. With --rpm given, p-queue's strict
    // (sliding-window) interval cap is a backstop against edge bursts: never more than two
    // seconds' worth of starts in any one second, where the budget allows at most 1.5.
    this.queue = new PQueue({ concurrency: 1, ...(options.givenRpm ? burstBackstop(options.givenRpm) : {}) });
  }

  get modelClass(): string {
    return this.budget.key.modelClass;
  }

  /** Items held by the lane and not yet answered. */
  get backlog(): number {
    return this.waitingItems;
  }

  /** An item joins (queued, parked, or backing off); `chars`: its prompt's size. */
  hold(chars: number): void {
    this.waitingItems += 1;
    this.waitingChars += chars;
  }

  /** An item leaves the backlog (it starts, or it is done with). */
  release(chars: number): void {
    this.waitingItems -= 1;
    this.waitingChars -= chars;
    if (this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * The run stops: the items still in the queue are not started (they stay pending). Returns how
   * many. Without this they would drain one by one through the --rpm backstop's interval cap, which
   * at a low rate takes minutes for a long queue.
   */
  dropQueued(): number {
    const n = this.queue.size;
    this.queue.clear();
    this.waitingItems -= n;
    this.closed = true;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
    return n;
  }

  private closed = false;

  /** Resolves once the backlog is below `maxItems` items and `maxChars` characters (the feeder reads ahead at most that far). */
  async roomFor(maxItems: number, maxChars: number): Promise<void> {
    while (!this.closed && (this.waitingItems >= maxItems || (this.waitingItems > 0 && this.waitingChars >= maxChars))) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Learns from an answer's usage (tokens counted against ITPM). */
  observeInput(counted: number): void {
    this.inputMean = this.inputMean === undefined ? counted : this.inputMean + MEAN_WEIGHT * (counted - this.inputMean);
  }

  /**
   * The requests per second this class's limits allow at the current pace: the tightest of RPM,
   * ITPM over the mean input and OTPM over the mean output. Undefined when no limit is known.
   */
  requestsPerSecond(): number | undefined {
    const { rpm, itpm, otpm } = this.budget.limits();
    const pace = this.budget.paceFactor;
    const candidates: number[] = [];
    if (rpm) candidates.push(rpm / 60);
    if (itpm && this.inputMean) candidates.push(itpm / 60 / Math.max(1, this.inputMean));
    const meanOut = this.output.mean();
    if (otpm && meanOut !== undefined) candidates.push(otpm / 60 / Math.max(1, meanOut));
    if (candidates.length === 0) return this.budget.hasLimits ? 1 : undefined;
    return Math.min(...candidates) * pace;
  }

  /**
   * The output tokens a request reserves before any answer of the class has ended (OutputEstimate's
   * prior cap). Streamed: one request's share of the output limit at the request limit's pace, so
   * a job's first seconds run at its RPM instead of at OTPM / max_tokens (a Start-tier job at
   * max_tokens 1024 would start at 6 requests a second of its 16); an answer that runs longer is
   * charged as it streams, and the next requests wait for it. Not streamed (charged only at the
   * end): one second of the output limit.
   */
  outputPrior(streamed: boolean): number | undefined {
    const perSecond = this.budget.outputPerSecond;
    if (perSecond === undefined || !streamed) return perSecond;
    const rpm = this.budget.limits().rpm;
    return rpm ? Math.max(1, Math.min(perSecond, perSecond / (rpm / 60))) : perSecond;
  }

  /** Sets the queue's concurrency to what the sizer allows now. */
  resize(): void {
    const allowed = this.sizer.allowed(this.requestsPerSecond());
    if (this.queue.concurrency !== allowed) this.queue.concurrency = allowed;
  }
}

/** p-queue's strict interval cap at two seconds' worth of `rpm` per one-second sliding window. */
export function burstBackstop(rpm: number): { interval: number; intervalCap: number; strict: true } {
  return { interval: 1000, intervalCap: Math.max(2, Math.ceil((2 * rpm) / 60)), strict: true };
}
