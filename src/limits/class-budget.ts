/**
 * One model class's budget as this process sees it: the limits in force (given ceilings, capped by
 * what the API reports), a temporary step-down of the pace after a 429, and the buckets themselves,
 * which live in a LimitStore (this process alone, this machine, or every machine on one Redis).
 *
 * Before a call, `reserve()` waits until the store can take 1 request, the estimated uncached input
 * tokens and the estimated output tokens (not max_tokens: output counts as it is produced), and
 * no 429 pause is in force; after the call, `settle()` corrects the estimates to the usage the API
 * returned, so the long-run pace follows what was actually spent. A 429 pauses every worker of
 * every process on the store until `retry-after`, and steps this process's pace down once per pause.
 */
import { StoppedError } from '../errors.js';
import { sleep } from '../sleep.js';
import type { LimitStore, TakeResult } from './limit-store.js';
import type { LimitReading, RateLimitHeaders, Tenancy } from './rate-limit-headers.js';
import { DIMENSIONS, LIMIT_OF, type BudgetKey, type BudgetSpec, type Cost, type Dimension, type RateLimits } from './types.js';

export interface ClassBudgetOptions {
  key: BudgetKey;
  store: LimitStore;
  /** Ceilings from flags or config for this class; the API's headers can only lower them. */
  given: RateLimits;
  /** When set, a single wait for capacity longer than this stops the run (`queue_overflow: fail`). */
  maxWaitMs?: number;
  /**
   * Our bucket's size in seconds of the limit. Default 0.5: the API's holds about a second's
   * worth, but a request reaches it some time after we count it, and while the API's bucket sits
   * full that refill is lost to its cap. On an idle machine the trip is milliseconds; on a busy one
   * (a cron box, a laptop compiling) the process is descheduled for hundreds of ms between counting
   * requests and writing them, and they arrive bunched: measured with two CPU burners, one run at
   * 2,400 RPM drew 429s in 6 of 8 runs (up to 12 of 132) with 0.75 s, none in 10 with 0.5 s.
   */
  capacitySeconds?: number;
  /** After a 429 the pace returns to the full limit over this long. Default 20 s. */
  recoveryMs?: number;
  /** Limits known before any answer (learned by an earlier run, or from the shared store). */
  known?: RateLimits;
  /**
   * An answer named the organization (and workspace) whose limits these are: the account moves
   * the budget onto that organization's (account-budget.ts). Returns undefined when nothing changes.
   */
  onTenancy?: (tenancy: Tenancy) => Promise<void> | undefined;
  /** Before a take, while the key's organization is not known yet: lets the account look it up. */
  beforeTake?: () => Promise<void> | undefined;
  now?: () => number;
}

/** What holds requests back right now, for the progress display ("never waits silently"). */
export interface Hold {
  heldBy: Dimension | 'pause';
  /** ms since epoch when the wait that is going on now is expected to end. */
  until: number;
}

const API_BUCKET_SECONDS = 1;
const DEFAULT_CAPACITY_SECONDS = 0.5;
/** Lowest pace after repeated 429s, as a fraction of the limit. */
const MIN_PACE = 0.25;
const STEP_DOWN = 0.7;
/** Longest single sleep while waiting, so a lowered or raised limit takes effect promptly. */
const MAX_SLEEP_MS = 250;
/** How often the organization's limits are read again for a workspace's budget (other processes learn them). */
const PARENT_REFRESH_MS = 2000;

export class ClassBudget {
  private currentKey: BudgetKey;
  /**
   * A workspace with limits of its own: its requests count against the organization's budget too,
   * paced there by the organization's limits as other processes of the organization learned them.
   */
  private parent: BudgetKey | undefined;
  private parentLimits: RateLimits = {};
  private parentReadAt = 0;
  /** Reservations taken and not yet settled or refunded: what a move to another account carries. */
  private readonly outstanding = new Set<Cost>();
  private readonly store: LimitStore;
  private readonly options: ClassBudgetOptions;
  private readonly now: () => number;
  /** The limit per dimension before the pace factor: min(given, reported). */
  private readonly base: Partial<Record<Dimension, number>> = {};
  private readonly reported: Partial<Record<Dimension, number>> = {};
  private pace = 1;
  private paceLow = 1;
  private paceLowAt = 0;
  /** Our estimate of when the pause in force ends (the store holds the truth). */
  private pausedUntil = 0;
  private headersSeen = false;
  private currentHold: Hold | undefined;
  /**
   * Costs reserved while a dimension's limit was not known yet (before the first answer's headers),
   * so its bucket did not take them: charged to the bucket when the limit becomes known, as the
   * API has counted them. Per reservation, so a settle before then corrects nothing twice.
   */
  private readonly untracked = new Map<Cost, Dimension[]>();
  private readonly untrackedTotal: Partial<Record<Dimension, number>> = {};
  /** Reservations are served one at a time, in order, so a retried item put in front goes first. */
  private line: Promise<unknown> = Promise.resolve();

  constructor(options: ClassBudgetOptions) {
    this.options = options;
    this.currentKey = options.key;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    for (const d of DIMENSIONS) {
      const given = options.given[LIMIT_OF[d]];
      const known = options.known?.[LIMIT_OF[d]];
      const limit = given && known ? Math.min(given, known) : (given ?? known);
      if (limit) this.base[d] = limit;
    }
  }

  /** Whose budget this is now: the key's own until an answer names its organization. */
  get key(): BudgetKey {
    return this.currentKey;
  }

  /** The organization's budget a workspace's requests count against too, when this is a workspace's. */
  get parentKey(): BudgetKey | undefined {
    return this.parent;
  }

  /**
   * The budget moves to another account (the organization an answer named): from now on every
   * take, settle and pause goes there. What is in flight was taken from the old account, so it is
   * charged to the new one now — its settle will correct it there — and the old buckets simply
   * refill unused. Takes wait for the move.
   */
  moveTo(account: string, parentAccount?: string): Promise<void> {
    const key = { account, modelClass: this.currentKey.modelClass };
    const parent = parentAccount ? { account: parentAccount, modelClass: key.modelClass } : undefined;
    const move = (async () => {
      if (key.account === this.currentKey.account && parent?.account === this.parent?.account) return;
      const carried: Partial<Cost> = {};
      for (const cost of this.outstanding) {
        const untracked = this.untracked.get(cost) ?? [];
        for (const d of DIMENSIONS) if (!untracked.includes(d) && cost[d] > 0) carried[d] = (carried[d] ?? 0) - cost[d];
      }
      this.currentKey = key;
      this.parent = parent;
      this.parentLimits = {};
      this.parentReadAt = 0;
      if (parent) await this.refreshParent();
      if (Object.keys(carried).length > 0) await this.adjustAll(carried, this.spec());
    })();
    return this.holdTakes(move);
  }

  /** True once the API has reported this class's limits in headers. */
  get confirmed(): boolean {
    return this.headersSeen;
  }

  /** True when any limit is known (given, remembered or reported). */
  get hasLimits(): boolean {
    return DIMENSIONS.some((d) => this.base[d] !== undefined);
  }

  /** The limits in force (before the temporary step-down). */
  limits(): RateLimits {
    return { rpm: this.base.requests, itpm: this.base.inputTokens, otpm: this.base.outputTokens };
  }

  /** What the API's headers reported, for remembering between runs and sharing between processes. */
  reportedLimits(): RateLimits {
    return { rpm: this.reported.requests, itpm: this.reported.inputTokens, otpm: this.reported.outputTokens };
  }

  /** The current pace as a fraction of the limits (1 unless a recent 429 stepped it down). */
  get paceFactor(): number {
    return this.pace;
  }

  /** What a reservation waits for now, if it has waited more than a moment. */
  hold(): Hold | undefined {
    return this.currentHold;
  }

  /** The bucket sizes the store computes with: the limits in force times the pace. */
  spec(): BudgetSpec {
    const spec: BudgetSpec = {};
    const capacitySeconds = this.options.capacitySeconds ?? DEFAULT_CAPACITY_SECONDS;
    for (const d of DIMENSIONS) {
      const limit = this.base[d];
      // Output tokens count as they are produced: the API lets a request in while its output bucket
      // is not in debt, whatever the request will write.
      if (limit) spec[d] = { perMinute: limit * this.pace, capacitySeconds, fullSeconds: API_BUCKET_SECONDS, debtOnly: d === 'outputTokens' };
    }
    return spec;
  }

  /** The organization's bucket sizes, for a workspace's budget: its learned limits at the full pace. */
  private parentSpec(): BudgetSpec {
    const spec: BudgetSpec = {};
    const capacitySeconds = this.options.capacitySeconds ?? DEFAULT_CAPACITY_SECONDS;
    for (const d of DIMENSIONS) {
      const limit = this.parentLimits[LIMIT_OF[d]];
      if (limit) spec[d] = { perMinute: limit, capacitySeconds, fullSeconds: API_BUCKET_SECONDS, debtOnly: d === 'outputTokens' };
    }
    return spec;
  }

  private async refreshParent(): Promise<void> {
    if (!this.parent) return;
    this.parentReadAt = this.now();
    try {
      this.parentLimits = await this.store.getLearned(this.parent);
    } catch {
      // Keeps what it knew: the next refresh tries again.
    }
  }

  /** Applies `delta` to this budget and, for a workspace's, to its organization's. */
  private async adjustAll(delta: Partial<Cost>, spec: BudgetSpec): Promise<void> {
    await this.store.adjust(this.currentKey, delta, spec);
    if (this.parent) {
      const parentSpec = this.parentSpec();
      if (Object.keys(parentSpec).length > 0) await this.store.adjust(this.parent, delta, parentSpec);
    }
  }

  /** Takes `cost` from the organization's budget too, for a workspace's; gives back this one's when it does not fit. */
  private async takeParent(cost: Cost, spec: BudgetSpec): Promise<TakeResult> {
    if (!this.parent) return { ok: true, waitMs: 0 };
    if (this.now() - this.parentReadAt >= PARENT_REFRESH_MS) await this.refreshParent();
    const parentSpec = this.parentSpec();
    if (Object.keys(parentSpec).length === 0) return { ok: true, waitMs: 0 };
    const result = await this.store.take(this.parent, cost, parentSpec);
    if (!result.ok) await this.store.adjust(this.currentKey, cost, spec);
    return result;
  }

  /** Takes wait while `work` runs (a limit being learned, a move to the organization's budget). */
  private holdTakes(work: Promise<void>): Promise<void> {
    const gate = work.catch(() => undefined);
    this.gates.add(gate);
    void gate.then(() => this.gates.delete(gate));
    return work;
  }

  private readonly gates = new Set<Promise<unknown>>();

  /**
   * Waits until `cost` fits every bucket and no 429 pause is in force, then takes it. Resolves
   * false when `signal` aborts first. Throws StoppedError when `maxWaitMs` is set and one wait
   * would be longer (`queue_overflow: fail`).
   */
  reserve(cost: Cost, signal?: AbortSignal): Promise<boolean> {
    const turn = this.line.then(() => this.acquire(cost, signal));
    this.line = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(cost: Cost, signal?: AbortSignal): Promise<boolean> {
    try {
      for (;;) {
        if (signal?.aborted) return false;
        this.recoverPace();
        const lookup = this.options.beforeTake?.();
        if (lookup) await lookup;
        while (this.gates.size > 0) await Promise.all(this.gates);
        const spec = this.spec();
        let result: TakeResult = await this.store.take(this.currentKey, cost, spec);
        if (result.ok) result = await this.takeParent(cost, spec);
        if (result.ok) {
          this.noteUntracked(cost, spec);
          this.outstanding.add(cost);
          return true;
        }
        if (result.heldBy === 'pause') this.pausedUntil = Math.max(this.pausedUntil, this.now() + result.waitMs);
        const maxWaitMs = this.options.maxWaitMs;
        if (maxWaitMs !== undefined && result.waitMs > maxWaitMs) {
          throw new StoppedError(
            'queue-timeout',
            `the rate limit would hold the next request back ${Math.ceil(result.waitMs / 1000)}s, longer than queue_timeout_ms (${maxWaitMs}); stopping because queue_overflow is "fail"`,
          );
        }
        if (result.waitMs >= 1000 && result.heldBy) this.currentHold = { heldBy: result.heldBy, until: this.now() + result.waitMs };
        if (!(await sleep(Math.min(result.waitMs, MAX_SLEEP_MS), signal))) return false;
      }
    } finally {
      this.currentHold = undefined;
    }
  }

  /**
   * After an answer: corrects the estimates to what `usage` says was spent (charged or given back).
   * `chargedOutput`: what `chargeOutput` took for this request while it streamed.
   */
  async settle(reserved: Cost, used: { inputTokens?: number; outputTokens?: number }, chargedOutput = 0): Promise<void> {
    this.forgetUntracked(reserved);
    this.outstanding.delete(reserved);
    const out = reserved.outputTokens + chargedOutput;
    await this.adjustAll(
      {
        inputTokens: reserved.inputTokens - (used.inputTokens ?? reserved.inputTokens),
        outputTokens: out - (used.outputTokens ?? out),
      },
      this.spec(),
    );
  }

  /** One second of this class's output limit, when known: the most an estimate starts from. */
  get outputPerSecond(): number | undefined {
    const otpm = this.base.outputTokens;
    return otpm ? otpm / 60 : undefined;
  }

  /**
   * A streamed answer has produced `tokens` more output than its reservation: charged now, as the
   * API charges output while it is produced, so the bucket goes into debt (and holds new requests)
   * while an answer runs long, not only once it has ended. `settle` then counts `charged` as taken.
   */
  async chargeOutput(tokens: number): Promise<void> {
    if (tokens > 0) await this.adjustAll({ outputTokens: -tokens }, this.spec());
  }

  /** The request was refused before it counted (429: `request` true) or failed without using tokens (5xx). */
  async refund(reserved: Cost, options: { request: boolean }): Promise<void> {
    this.forgetUntracked(reserved);
    this.outstanding.delete(reserved);
    await this.adjustAll(
      { requests: options.request ? reserved.requests : 0, inputTokens: reserved.inputTokens, outputTokens: reserved.outputTokens },
      this.spec(),
    );
  }

  /**
   * Adopts the limits the API reports (they cap the given ones) and lowers the buckets to what it
   * says remains, where that is clearly below our view: requests still on their way to the API are
   * counted here but not there yet, and token counts come rounded to the thousand.
   */
  async observe(headers: RateLimitHeaders): Promise<void> {
    // Whose limits these are comes first: the readings below belong to that account's buckets.
    if (headers.tenancy) {
      const move = this.options.onTenancy?.(headers.tenancy);
      if (move) await move;
    }
    const readings = this.readings(headers);
    let any = false;
    const newlyKnown: Dimension[] = [];
    for (const d of DIMENSIONS) {
      const r = readings[d];
      if (!r) continue;
      any = true;
      if (this.base[d] === undefined) newlyKnown.push(d);
      this.reported[d] = r.limit;
      const given = this.options.given[LIMIT_OF[d]];
      this.base[d] = given ? Math.min(given, r.limit) : r.limit;
    }
    if (!any) return;
    this.headersSeen = true;
    const spec = this.spec();
    const levels: Partial<Record<Dimension, number>> = {};
    for (const d of DIMENSIONS) {
      const level = this.apiLevelAtMost(readings[d], spec[d]?.perMinute);
      if (level !== undefined) levels[d] = level;
    }
    const writes = (async () => {
      await this.chargeUntracked(newlyKnown, spec);
      if (Object.keys(levels).length > 0) await this.store.clamp(this.currentKey, levels, spec);
    })();
    if (newlyKnown.length === 0) return writes;
    // A limit just learned is in force from now on, but its bucket learns what is spent only with
    // these writes: a take in between would see a full bucket and send at once. Takes wait for them.
    return this.holdTakes(writes);
  }

  /**
   * A 429: every worker waits `retryAfterMs`, the buckets drop to what the API says remains, and
   * the pace steps down — once per pause: the other requests in flight that get 429s with it are
   * the same signal. Returns whether this 429 started a new pause.
   */
  async onRateLimited(retryAfterMs: number | undefined, headers: RateLimitHeaders): Promise<boolean> {
    await this.observe(headers);
    const { newPause, remainingMs } = await this.store.pause(this.currentKey, retryAfterMs ?? 1000);
    const now = this.now();
    // A 429 that another process's pause already covers is the same signal: no second step-down.
    const fresh = newPause && now >= this.pausedUntil;
    this.pausedUntil = Math.max(this.pausedUntil, now + remainingMs);
    if (fresh) {
      this.pace = Math.max(MIN_PACE, this.pace * STEP_DOWN);
      this.paceLow = this.pace;
      this.paceLowAt = now;
    }
    return fresh;
  }

  private noteUntracked(cost: Cost, spec: BudgetSpec): void {
    const dims = DIMENSIONS.filter((d) => !spec[d] && cost[d] > 0);
    if (dims.length === 0) return;
    this.untracked.set(cost, dims);
    for (const d of dims) this.untrackedTotal[d] = (this.untrackedTotal[d] ?? 0) + cost[d];
  }

  /** A reservation settled before its dimension's limit was known: nothing to charge for it later. */
  private forgetUntracked(cost: Cost): void {
    const dims = this.untracked.get(cost);
    if (!dims) return;
    this.untracked.delete(cost);
    for (const d of dims) this.untrackedTotal[d] = (this.untrackedTotal[d] ?? 0) - cost[d];
  }

  /** A limit just became known: its bucket takes what the requests still in flight reserved without it. */
  private async chargeUntracked(dims: Dimension[], spec: BudgetSpec): Promise<void> {
    const delta: Partial<Cost> = {};
    for (const d of dims) {
      const total = this.untrackedTotal[d] ?? 0;
      if (total > 0) delta[d] = -total;
      this.untrackedTotal[d] = 0;
    }
    for (const [cost, ds] of this.untracked) {
      const left = ds.filter((d) => !dims.includes(d));
      if (left.length === 0) this.untracked.delete(cost);
      else this.untracked.set(cost, left);
    }
    if (Object.keys(delta).length > 0) await this.adjustAll(delta, spec);
  }

  private readings(h: RateLimitHeaders): Record<Dimension, LimitReading | undefined> {
    return { requests: h.requests, inputTokens: h.inputTokens, outputTokens: h.outputTokens };
  }

  /**
   * The most the API's bucket can hold now according to a reading, or undefined when the reading
   * says nothing stricter than "somewhere near full". `remaining` is a floor at 0, so at 0 the
   * reset time tells how deep in debt the API's bucket is (a request costing more than the bucket
   * holds) — from its earliest possible value, so that second precision never makes us wait longer
   * than the API does.
   */
  private apiLevelAtMost(r: LimitReading | undefined, perMinute: number | undefined): number | undefined {
    if (!r || r.remainingAtMost === undefined || !perMinute) return undefined;
    if (r.remaining === 0 && r.resetNotBefore !== undefined) {
      const untilFull = r.resetNotBefore - this.now();
      if (untilFull > 0) return (perMinute / 60) * API_BUCKET_SECONDS - (untilFull * perMinute) / 60_000;
    }
    return r.remainingAtMost;
  }

  private recoverPace(): void {
    if (this.pace >= 1) return;
    const recoveryMs = this.options.recoveryMs ?? 20_000;
    const since = Math.max(0, this.now() - Math.max(this.paceLowAt, this.pausedUntil));
    this.pace = Math.min(1, this.paceLow + (1 - this.paceLow) * (since / recoveryMs));
    if (1 - this.pace < 0.01) this.pace = 1;
  }
}
