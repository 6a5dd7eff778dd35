/**
 * The budgets one API key draws from: one ClassBudget per model class, all on one LimitStore. An
 * item never waits behind another class's limit; items of one class share that class's buckets
 * with every other process on the store drawing from the same account.
 *
 * Whose account: the API's limits are the organization's, not the key's. Until an answer names the
 * organization (`anthropic-organization-id`), the budgets are the key's own (its fingerprint); the
 * first answer that names it moves every class's budget onto the organization's account
 * (account-key.ts `organizationAccount`), shared by every key of that organization, and links the
 * key to it in the store, so that every other process using the key joins it too — before its own
 * first answer: while its key is not linked yet, a process looks the link up before each take. A
 * workspace with limits of its own (`anthropic-workspace-id`) has an account of its own whose
 * requests also count against the organization's.
 */
import { organizationAccount } from './account-key.js';
import { ClassBudget } from './class-budget.js';
import { HEARTBEAT_EVERY_MS, startHeartbeat, thisProcess, type Heartbeat } from './heartbeat.js';
import type { KeyLink, LimitStore, PeerInfo } from './limit-store.js';
import { BATCHES_CLASS, modelClass } from './model-class.js';
import type { Tenancy } from './rate-limit-headers.js';
import type { RateLimits } from './types.js';

/** Limits from flags, environment and config: for every class, and per class where the config names one. */
export interface GivenLimits {
  all: RateLimits;
  /** Keyed by model class (config keys are normalized with modelClass()). */
  byClass?: Record<string, RateLimits>;
}

export interface AccountBudgetOptions {
  store: LimitStore;
  /** accountFingerprint(key, baseURL): the budget's account until the key's organization is known. */
  keyId: string;
  /** The API's base URL (organizations behind different APIs never share). */
  baseURL: string;
  /** The organization the key is known to belong to (an earlier run's organizations.json), if any. */
  link?: KeyLink;
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
  // The Messages limits (--rpm …) are no ceiling for the Batches endpoints, which have their own.
  if (cls === BATCHES_CLASS) return { rpm: own.rpm };
  return { rpm: own.rpm ?? given.all.rpm, itpm: own.itpm ?? given.all.itpm, otpm: own.otpm ?? given.all.otpm };
}

/** While the key's organization is not known: look its link up in the store at most this often. */
const LINK_LOOKUP_MS = 200;

export class AccountBudget {
  readonly store: LimitStore;
  /** The key's fingerprint. */
  readonly keyId: string;
  readonly peer: PeerInfo;
  private readonly options: AccountBudgetOptions;
  private readonly budgets = new Map<string, ClassBudget>();
  private readonly lastShared = new Map<string, string>();
  private heartbeat: Heartbeat | undefined;
  private currentLink: KeyLink | undefined;
  /** The move in progress onto an organization's account, if any. */
  private moving: Promise<void> | undefined;
  private lookedUpAt = -Infinity;
  private closed = false;

  constructor(options: AccountBudgetOptions) {
    this.options = options;
    this.store = options.store;
    this.keyId = options.keyId;
    this.currentLink = options.link;
    this.peer = { ...thisProcess(options.command ?? 'run'), keyId: options.keyId };
  }

  /** Whose budgets these are now: the organization's (or workspace's) account, else the key's own. */
  get account(): string {
    return this.currentLink?.account ?? this.keyId;
  }

  /** The organization (and workspace) the key belongs to, once an answer (or the store) has said. */
  get link(): KeyLink | undefined {
    return this.currentLink;
  }

  /**
   * An answer named its organization: moves onto that account when it is not the one in use.
   * Returns undefined at once when nothing changes (the case for every answer after the first).
   */
  join(tenancy: Tenancy): Promise<void> | undefined {
    const link = this.currentLink;
    if (link && link.organization === tenancy.organization && link.workspace === tenancy.workspace) return this.moving;
    const { baseURL } = this.options;
    const next: KeyLink = { account: organizationAccount(baseURL, tenancy.organization, tenancy.workspace), organization: tenancy.organization };
    if (tenancy.workspace) {
      next.parent = organizationAccount(baseURL, tenancy.organization);
      next.workspace = tenancy.workspace;
    }
    return this.moveTo(next, true);
  }

  /** Before a take while the key is not linked yet: another process may have learned its organization. */
  private lookUpLink(): Promise<void> | undefined {
    if (this.currentLink) return this.moving;
    const now = Date.now();
    if (now - this.lookedUpAt < LINK_LOOKUP_MS) return undefined;
    this.lookedUpAt = now;
    return this.store.linkOf(this.keyId).then(
      (link) => (link && !this.currentLink ? this.moveTo(link, false) : undefined),
      () => undefined,
    );
  }

  /** Moves every class's budget (and this process's heartbeat) onto `link`'s account. */
  private moveTo(link: KeyLink, record: boolean): Promise<void> {
    this.currentLink = link;
    const previous = this.moving ?? Promise.resolve();
    const move = previous.then(async () => {
      if (record) await this.store.linkKey(this.keyId, link).catch(() => undefined);
      await Promise.all([...this.budgets.values()].map((b) => b.moveTo(link.account, link.parent)));
      if (this.heartbeat && !this.closed) {
        await this.heartbeat.stop().catch(() => undefined);
        this.heartbeat = startHeartbeat(this.store, link.account, this.peer, this.options.heartbeatMs ?? HEARTBEAT_EVERY_MS);
        await this.heartbeat.first;
      }
    });
    this.moving = move;
    void move.finally(() => {
      if (this.moving === move) this.moving = undefined;
    });
    return move;
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
        onTenancy: (t) => this.join(t),
        beforeTake: () => this.lookUpLink(),
        given: givenFor(this.options.given, cls),
        known: this.options.known?.get(cls),
        maxWaitMs: this.options.maxWaitMs,
        capacitySeconds: this.options.capacitySeconds,
        recoveryMs: this.options.recoveryMs,
        now: this.options.now,
      });
      if (this.currentLink?.parent) void budget.moveTo(this.currentLink.account, this.currentLink.parent);
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
    // A key another process (or an earlier run on this store) has linked starts on its organization's account.
    if (!this.currentLink) {
      const link = await this.store.linkOf(this.keyId).catch(() => undefined);
      if (link) await this.moveTo(link, false);
    } else if (this.options.link) {
      // Known from this machine's state dir: tell the store, for processes elsewhere that share it.
      await this.store.linkKey(this.keyId, this.options.link).catch(() => undefined);
    }
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
    this.closed = true;
    await this.moving?.catch(() => undefined);
    await this.heartbeat?.stop().catch(() => undefined);
    this.heartbeat = undefined;
  }
}
