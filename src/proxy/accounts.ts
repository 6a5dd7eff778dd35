/**
 * The keys requests come in with, and the lanes that pace them. Each key has its budgets
 * (AccountBudget) on the limit store, keyed as `claw-batch run` keys them, so a proxy and a run
 * job drawing from one account share one limit. The API's limits are the organization's: once a
 * key's answer names its organization, the key's budgets move onto the organization's account,
 * and its requests join the lanes of every other key of that organization — one lane per (account,
 * model class), so the fair queue takes turns across every client of the organization and a
 * Haiku request never waits behind Sonnet's limit. Before that (a key's first request), a key has
 * lanes of its own.
 */
import { AccountBudget, type GivenLimits } from '../limits/account-budget.js';
import { accountFingerprint, normalizeBaseUrl } from '../limits/account-key.js';
import type { LimitStore } from '../limits/limit-store.js';
import type { ClassBudget } from '../limits/class-budget.js';
import { BATCHES_CLASS, modelClass } from '../limits/model-class.js';
import { MessageLane } from './message-lane.js';

export interface AccountsOptions {
  store: LimitStore;
  /** The upstream's base URL (part of the fingerprint). */
  upstream: string;
  given: GivenLimits;
  /** What this process is, for `claw-batch limits`. Default `proxy`. */
  command?: string;
}

/** One key's budgets. */
export interface Account {
  /** The key's fingerprint: 16 hex digits; never the key. */
  readonly id: string;
  readonly budget: AccountBudget;
}

/** A lane with the account it paces (the organization's once known, else one key's). */
export interface AccountLane {
  account: string;
  lane: MessageLane;
}

/**
 * Keys kept at most. Each is a heartbeat and a few buckets; a client cycling through made-up keys
 * (each answered 401) must not grow them without end, so the longest unused idle one goes.
 */
const MAX_ACCOUNTS = 64;

export class Accounts {
  private readonly options: AccountsOptions;
  private readonly byKey = new Map<string, Account>();
  /** Keyed by `<account>\0<model class>`. */
  private readonly lanesByAccount = new Map<string, AccountLane & { owner: Account }>();

  constructor(options: AccountsOptions) {
    this.options = options;
  }

  /** The lane for `model` under `credential`'s account, created on first use. */
  async lane(credential: string, model: string): Promise<MessageLane> {
    const account = await this.account(credential);
    const cls = modelClass(model);
    const id = `${account.budget.account}\u0000${cls}`;
    let entry = this.lanesByAccount.get(id);
    if (!entry) {
      this.rekeyMovedLanes();
      entry = this.lanesByAccount.get(id);
    }
    if (!entry) {
      entry = { account: account.budget.account, lane: new MessageLane(account.budget.forClass(cls)), owner: account };
      this.lanesByAccount.set(id, entry);
    }
    return entry.lane;
  }

  /** The budget of the Message Batches endpoints under `credential`'s account (its organization's once known). */
  async batchesBudget(credential: string): Promise<ClassBudget> {
    return (await this.account(credential)).budget.forClass(BATCHES_CLASS);
  }

  /** Shares what the API reported for the lane's class with the other processes on the store. */
  async shareReported(lane: MessageLane): Promise<void> {
    for (const entry of this.lanesByAccount.values()) {
      if (entry.lane === lane) return entry.owner.budget.shareReported(lane.budget);
    }
  }

  /** The limit store every budget lives on. */
  get store(): LimitStore {
    return this.options.store;
  }

  /** Every key seen (and not forgotten). */
  all(): Account[] {
    return [...this.byKey.values()];
  }

  /** Every lane, with the account it paces now. */
  lanes(): AccountLane[] {
    this.rekeyMovedLanes();
    return [...this.lanesByAccount.values()].map(({ lane }) => ({ account: lane.budget.key.account, lane }));
  }

  /**
   * A key's own lane whose budget has since moved to its organization's account becomes that
   * account's lane when it has none yet (its queue and what it learned go with it); when the
   * organization already has one, new requests go there, and this one goes once idle.
   */
  private rekeyMovedLanes(): void {
    for (const [id, e] of this.lanesByAccount) {
      const now = e.lane.budget.key.account;
      if (e.account === now) continue;
      const target = `${now}\u0000${e.lane.budget.key.modelClass}`;
      if (!this.lanesByAccount.has(target)) {
        this.lanesByAccount.delete(id);
        this.lanesByAccount.set(target, { ...e, account: now });
      } else if (e.lane.queued === 0 && e.lane.inFlight === 0) this.lanesByAccount.delete(id);
    }
  }

  /** Stops every account's heartbeat and leaves the store's list of processes. */
  async close(): Promise<void> {
    await Promise.all(this.all().map((a) => a.budget.close()));
  }

  private async account(credential: string): Promise<Account> {
    const id = accountFingerprint(credential, this.options.upstream);
    let account = this.byKey.get(id);
    // Map order doubles as recency of use.
    if (account) {
      this.byKey.delete(id);
      this.byKey.set(id, account);
    } else {
      if (this.byKey.size >= MAX_ACCOUNTS) this.forgetIdle();
      const budget = new AccountBudget({
        store: this.options.store,
        keyId: id,
        baseURL: normalizeBaseUrl(this.options.upstream),
        given: this.options.given,
        command: this.options.command ?? 'proxy',
      });
      account = { id, budget };
      this.byKey.set(id, account);
      // Registers this process with the store (for `claw-batch limits`), starts its heartbeat, and
      // joins the organization's account at once when the store already links the key to one.
      await budget.prepare([]);
    }
    return account;
  }

  /** Forgets the longest unused key whose lanes are all idle (and the lanes only it paced). */
  private forgetIdle(): void {
    for (const [id, account] of this.byKey) {
      const owned = [...this.lanesByAccount].filter(([, e]) => e.owner === account);
      if (owned.every(([, e]) => e.lane.queued === 0 && e.lane.inFlight === 0)) {
        for (const [laneId] of owned) this.lanesByAccount.delete(laneId);
        this.byKey.delete(id);
        void account.budget.close();
        return;
      }
    }
  }
}
