/**
 * The account's budgets: one ClassBudget per model class, all on one LimitStore, keyed by the
 * account's fingerprint. An item never waits behind another class's limit; items of one class
 * share that class's buckets with every other process using the same store and key.
 */
import { ClassBudget } from './class-budget.js';
import { HEARTBEAT_EVERY_MS, startHeartbeat, thisProcess, type Heartbeat } from './heartbeat.js';
import type { LimitStore, PeerInfo } from './limit-store.js';
import { modelClass } from './model-class.js';
import type { RateLimits } from './types.js';

/** Limits from flags, environment and config: for every class, and per class where the config names one. */
export interface GivenLimits {
  all: RateLimits;
  /** Keyed by model class (config keys are normalized with modelClass()). */
  byClass?: Record<string, RateLimits>;
}

export interface AccountBudgetOptions {
  store: LimitStore;
  /** accountFingerprint(key, baseURL). */
  account: string;
  given: GivenLimits;
  /** Limits learned by earlier runs, per class (learned-limits.json). */
  known?: Map<string, RateLimits>;
  /** `queue_overflow: fail`: the longest single wait for capacity. */
  maxWaitMs?: number;
  /** What this process is, for `claw-batch limits`. Default `run`. */
  command?: string;
  /** ms between heartbeats to the store. Default HEARTBEAT_EVERY_MS (heartbeat.ts). */
  heartbeatMs?: number;
  capacitySeconds?: number;
  recoveryMs?: number;
  now?: () => number;
}

/** The limits for one class: a class the config names overrides the general ones, field by field. */
export function givenFor(given: GivenLimits, cls: string): RateLimits {
  const own = given.byClass?.[cls] ?? {};
  return { rpm: own.rpm ?? given.all.rpm, itpm: own.itpm ?? given.all.itpm, otpm: own.otpm ?? given.all.otpm };
}

export class AccountBudget {
  readonly store: LimitStore;
  readonly account: string;
  readonly peer: PeerInfo;
  private readonly options: AccountBudgetOptions;
  private readonly budgets = new Map<string, ClassBudget>();
  private readonly lastShared = new Map<string, string>();
  private heartbeat: Heartbeat | undefined;

  constructor(options: AccountBudgetOptions) {
    this.options = options;
    this.store = options.store;
    this.account = options.account;
    this.peer = thisProcess(options.command ?? 'run');
  }

  /** The budget of `model`'s class, created on first use. */
  forModel(model: string): ClassBudget {
    return this.forClass(modelClass(model));
  }

  forClass(cls: string): ClassBudget {
    let budget = this.budgets.get(cls);
    if (!budget) {
      budget = new ClassBudget({
        key: { account: this.account, modelClass: cls },
        store: this.store,
        given: givenFor(this.options.given, cls),
        known: this.options.known?.get(cls),
        maxWaitMs: this.options.maxWaitMs,
        capacitySeconds: this.options.capacitySeconds,
        recoveryMs: this.options.recoveryMs,
        now: this.options.now,
      });
      this.budgets.set(cls, budget);
      this.peer.modelClasses = [...this.budgets.keys()];
    }
    return budget;
  }

  /**
   * Before sending: the classes this job will use, with the limits other processes on the store
   * have learned for them (so a second job starts at the limit the first one found).
   */
  async prepare(models: Iterable<string>): Promise<void> {
    const classes = new Set([...models].map(modelClass));
    for (const cls of classes) {
      const shared = await this.store.getLearned({ account: this.account, modelClass: cls });
      if (shared.rpm || shared.itpm || shared.otpm) {
        const known = this.options.known ?? new Map<string, RateLimits>();
        const mine = known.get(cls) ?? {};
        known.set(cls, { rpm: shared.rpm ?? mine.rpm, itpm: shared.itpm ?? mine.itpm, otpm: shared.otpm ?? mine.otpm });
        this.options.known = known;
      }
      this.forClass(cls);
    }
    this.heartbeat ??= startHeartbeat(this.store, this.account, this.peer, this.options.heartbeatMs ?? HEARTBEAT_EVERY_MS);
    await this.heartbeat.first;
  }

  /** Shares what the API reported for a class with the other processes, when it changed. */
  async shareReported(budget: ClassBudget): Promise<void> {
    const reported = budget.reportedLimits();
    const text = JSON.stringify(reported);
    if (this.lastShared.get(budget.key.modelClass) === text) return;
    this.lastShared.set(budget.key.modelClass, text);
    await this.store.setLearned(budget.key, reported);
  }

  /** Processes using this account's budgets (this one included), as of the last heartbeat. */
  get processes(): number {
    return this.heartbeat?.processes ?? 1;
  }

  classBudgets(): ClassBudget[] {
    return [...this.budgets.values()];
  }

  /** What the API reported per class, for learned-limits.json. */
  reported(): Map<string, RateLimits> {
    return new Map([...this.budgets].map(([cls, b]) => [cls, b.reportedLimits()]));
  }

  /** Stops the heartbeat and leaves the store's list of processes. */
  async close(): Promise<void> {
    await this.heartbeat?.stop().catch(() => undefined);
    this.heartbeat = undefined;
  }
}
