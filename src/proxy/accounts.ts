/**
 * The accounts requests come in for, each with its budgets on the limit store: keyed by
 * accountFingerprint(credential, upstream), as `claw-batch run` keys them, so a proxy and a run
 * job using the same key on the same store share one limit. Each model class of an account has
 * its own lane: a Haiku request never waits behind Sonnet's limit.
 */
import { AccountBudget, type GivenLimits } from '../limits/account-budget.js';
import { accountFingerprint } from '../limits/account-key.js';
import type { LimitStore } from '../limits/limit-store.js';
import { MessageLane } from './message-lane.js';

export interface AccountsOptions {
  store: LimitStore;
  /** The upstream's base URL (part of the fingerprint). */
  upstream: string;
  given: GivenLimits;
}

export interface Account {
  /** 16 hex digits; never the key. */
  readonly id: string;
  readonly budget: AccountBudget;
  readonly lanes: Map<string, MessageLane>;
}

/**
 * Accounts kept at most. Each is a heartbeat and a few buckets; a client cycling through made-up
 * keys (each answered 401) must not grow them without end, so the longest unused idle one goes.
 */
const MAX_ACCOUNTS = 64;

export class Accounts {
  private readonly options: AccountsOptions;
  private readonly byId = new Map<string, Account>();

  constructor(options: AccountsOptions) {
    this.options = options;
  }

  /** The lane for `model` under `credential`'s account, created on first use. */
  async lane(credential: string, model: string): Promise<MessageLane> {
    const account = await this.account(credential);
    const budget = account.budget.forModel(model);
    let lane = account.lanes.get(budget.key.modelClass);
    if (!lane) {
      lane = new MessageLane(budget);
      account.lanes.set(budget.key.modelClass, lane);
    }
    return lane;
  }

  /** Shares what the API reported for the lane's class with the other processes on the store. */
  async shareReported(lane: MessageLane): Promise<void> {
    await this.byId.get(lane.budget.key.account)?.budget.shareReported(lane.budget);
  }

  all(): Account[] {
    return [...this.byId.values()];
  }

  /** Stops every account's heartbeat and leaves the store's list of processes. */
  async close(): Promise<void> {
    await Promise.all(this.all().map((a) => a.budget.close()));
  }

  private async account(credential: string): Promise<Account> {
    const id = accountFingerprint(credential, this.options.upstream);
    let account = this.byId.get(id);
    // Map order doubles as recency of use.
    if (account) {
      this.byId.delete(id);
      this.byId.set(id, account);
    } else {
      if (this.byId.size >= MAX_ACCOUNTS) this.forgetIdle();
      const budget = new AccountBudget({ store: this.options.store, account: id, given: this.options.given, command: 'proxy' });
      account = { id, budget, lanes: new Map() };
      this.byId.set(id, account);
      // Registers this process with the store (for `claw-batch limits`) and starts its heartbeat.
      await budget.prepare([]);
    }
    return account;
  }

  private forgetIdle(): void {
    for (const [id, account] of this.byId) {
      if ([...account.lanes.values()].every((l) => l.queued === 0 && l.inFlight === 0)) {
        this.byId.delete(id);
        void account.budget.close();
        return;
      }
    }
  }
}
