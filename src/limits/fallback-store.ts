/**
 * Keeps a run going when its shared store fails mid-run (Redis down or unreachable, a SQLite file
 * locked or corrupt). Every call goes to the shared store; when one throws `LimitStoreError`, this
 * process goes on with a store of its own (memory-store.ts) whose limits are its fair share: the
 * limit divided by the processes last seen in the shared store, since each of them is now pacing
 * alone too. It says so once through `onNotice`, tries the shared store again every
 * `retryEveryMs`, and when it answers says so once and rejoins: the shared state simply continues
 * (what was taken alone meanwhile is not replayed; the others paced at their share too).
 *
 * No call ever throws because the store failed. An error that is not a `LimitStoreError` is a
 * bug, not an outage, and is thrown as it is.
 */
import { LimitStoreError, type BudgetSnapshot, type KeyLink, type LimitStore, type LinkedKey, type PauseResult, type PeerInfo, type PeerSeen, type TakeResult } from './limit-store.js';
import { MemoryStore } from './memory-store.js';
import { DIMENSIONS, type BudgetKey, type BudgetSpec, type Cost, type Dimension, type RateLimits } from './types.js';

export interface FallbackStoreOptions {
  /** Told once when the shared store fails and once when it answers again. Default: nothing is said. */
  onNotice?: (message: string) => void;
  /** How long to pace alone before trying the shared store again. Default 3000 ms. */
  retryEveryMs?: number;
  /**
   * Processes sharing the store as last seen, until a heartbeat or `peers()` through this wrapper
   * says otherwise. Default 1.
   */
  processes?: number;
  /** The clock for the retry interval, in ms. Default `Date.now`. */
  now?: () => number;
}

export class FallbackStore implements LimitStore {
  readonly kind: LimitStore['kind'];
  readonly where: string;
  private readonly local: MemoryStore;
  private readonly onNotice: (message: string) => void;
  private readonly retryEveryMs: number;
  private readonly clock: () => number;
  /** Processes last seen in the shared store, this one included. */
  private processes: number;
  /** While alone: the share of the limit this process takes (1/share). */
  private share = 1;
  private alone = false;
  private retryAt = 0;
  private probing = false;
  /**
   * After rejoining, until this time, the shared store is used at the fair share still: the other
   * processes rejoin only when their own retry falls due, and until then they pace alone at their
   * share — one process at the full limit beside them would be over it.
   */
  private shareUntil = 0;

  constructor(
    private readonly shared: LimitStore,
    options: FallbackStoreOptions = {},
  ) {
    this.kind = shared.kind;
    this.where = shared.where;
    this.onNotice = options.onNotice ?? (() => {});
    this.retryEveryMs = options.retryEveryMs ?? 3000;
    this.clock = options.now ?? Date.now;
    this.processes = Math.max(1, options.processes ?? 1);
    this.local = new MemoryStore({ now: this.clock, startEmpty: true });
  }

  /** True while calls go to the shared store; false while pacing alone. */
  get sharing(): boolean {
    return !this.alone;
  }

  /** The fraction of each limit this process uses now: 1 while sharing, 1/N while alone. */
  get fairShare(): number {
    return this.alone ? 1 / this.share : 1;
  }

  private goAlone(err: LimitStoreError): void {
    this.retryAt = this.clock() + this.retryEveryMs;
    if (this.alone) return;
    this.alone = true;
    // Start each time alone from empty buckets: a leftover full one would be a burst on the API.
    this.local.forgetLevels();
    this.share = Math.max(1, Math.round(this.processes));
    const reason = err.message.startsWith(`${this.where}: `) ? err.message.slice(this.where.length + 2) : err.message;
    const pace =
      this.share > 1 ? `pacing alone at 1/${this.share} of the limit (${this.share} processes were sharing it)` : 'pacing alone at the full limit (no other process was using it)';
    this.onNotice(`the shared limit store at ${this.where} is unreachable (${reason}); ${pace} until it is back`);
  }

  private async rejoin(): Promise<void> {
    if (!this.alone) return;
    this.alone = false;
    this.shareUntil = this.clock() + 2 * this.retryEveryMs;
    this.onNotice(`the shared limit store at ${this.where} answers again; sharing the limit with the other processes again`);
    // A store that came back empty (Redis keeps nothing) would hand every process a full bucket at
    // once, a burst on an API bucket they have been draining all along: bring the shared levels down
    // to what this process's own say the account has left (its share, times the processes).
    for (const { key, levels, spec } of this.local.levelsNow()) {
      try {
        await this.shared.clamp(key, scaleLevels(levels, 1 / this.share), spec);
      } catch {
        // It went away again: the next call finds out.
      }
    }
  }

  /** Runs `shared`, or `alone` while the shared store is away (probing it every `retryEveryMs`). */
  private async use<T>(shared: () => Promise<T>, alone: () => Promise<T>): Promise<T> {
    if (this.alone && (this.probing || this.clock() < this.retryAt)) return alone();
    const probe = this.alone;
    if (probe) this.probing = true;
    try {
      const out = await shared();
      await this.rejoin();
      return out;
    } catch (err) {
      if (!(err instanceof LimitStoreError)) throw err;
      this.goAlone(err);
      return alone();
    } finally {
      if (probe) this.probing = false;
    }
  }

  /** The spec for the shared store: the fair share for a while after rejoining, else the spec as given. */
  private sharedSpec(spec: BudgetSpec): BudgetSpec {
    return this.clock() < this.shareUntil ? this.fair(spec) : spec;
  }

  /** The spec scaled to this process's fair share. */
  private fair(spec: BudgetSpec): BudgetSpec {
    if (this.share === 1) return spec;
    const out: BudgetSpec = {};
    for (const d of DIMENSIONS) {
      const s = spec[d];
      if (s) out[d] = { ...s, perMinute: s.perMinute / this.share };
    }
    return out;
  }

  take(key: BudgetKey, cost: Cost, spec: BudgetSpec): Promise<TakeResult> {
    return this.use(
      () => this.shared.take(key, cost, this.sharedSpec(spec)),
      () => this.local.take(key, cost, this.fair(spec)),
    );
  }

  adjust(key: BudgetKey, delta: Partial<Cost>, spec: BudgetSpec): Promise<void> {
    return this.use(
      () => this.shared.adjust(key, delta, this.sharedSpec(spec)),
      () => this.local.adjust(key, delta, this.fair(spec)),
    );
  }

  clamp(key: BudgetKey, levels: Partial<Record<Dimension, number>>, spec: BudgetSpec): Promise<void> {
    // The API's remaining count is for the whole account; alone, this process may use its share of it.
    return this.use(
      () => this.shared.clamp(key, levels, this.sharedSpec(spec)),
      () => this.local.clamp(key, scaleLevels(levels, this.share), this.fair(spec)),
    );
  }

  pause(key: BudgetKey, ms: number): Promise<PauseResult> {
    return this.use(
      () => this.shared.pause(key, ms),
      () => this.local.pause(key, ms),
    );
  }

  async setLearned(key: BudgetKey, limits: RateLimits): Promise<void> {
    // Kept here too, so that while alone the learned limits are still known.
    await this.local.setLearned(key, limits);
    await this.use(
      () => this.shared.setLearned(key, limits),
      async () => {},
    );
  }

  getLearned(key: BudgetKey): Promise<RateLimits> {
    return this.use(
      async () => {
        const learned = await this.shared.getLearned(key);
        await this.local.setLearned(key, learned);
        return learned;
      },
      () => this.local.getLearned(key),
    );
  }

  async heartbeat(account: string, peer: PeerInfo, activeWithinMs: number): Promise<number> {
    await this.local.heartbeat(account, peer, activeWithinMs);
    return this.use(
      async () => (this.processes = await this.shared.heartbeat(account, peer, activeWithinMs)),
      async () => this.processes,
    );
  }

  async leave(account: string, peerId: string): Promise<void> {
    await this.local.leave(account, peerId);
    await this.use(
      () => this.shared.leave(account, peerId),
      async () => {},
    );
  }

  peers(account: string, activeWithinMs: number): Promise<PeerSeen[]> {
    return this.use(
      async () => {
        const seen = await this.shared.peers(account, activeWithinMs);
        this.processes = Math.max(1, seen.length);
        return seen;
      },
      () => this.local.peers(account, activeWithinMs),
    );
  }

  snapshot(account: string): Promise<BudgetSnapshot[]> {
    return this.use(
      () => this.shared.snapshot(account),
      () => this.local.snapshot(account),
    );
  }

  async linkKey(keyId: string, link: KeyLink): Promise<void> {
    // Kept here too: while alone, the key still draws from its organization's budget.
    await this.local.linkKey(keyId, link);
    await this.use(
      () => this.shared.linkKey(keyId, link),
      async () => {},
    );
  }

  linkOf(keyId: string): Promise<KeyLink | undefined> {
    return this.use(
      async () => {
        const link = await this.shared.linkOf(keyId);
        if (link) await this.local.linkKey(keyId, link);
        return link;
      },
      () => this.local.linkOf(keyId),
    );
  }

  keysOf(account: string): Promise<LinkedKey[]> {
    return this.use(
      () => this.shared.keysOf(account),
      () => this.local.keysOf(account),
    );
  }

  async close(): Promise<void> {
    try {
      await this.shared.close();
    } catch {
      // closing a store that is away: nothing to release
    }
    await this.local.close();
  }
}

function scaleLevels(levels: Partial<Record<Dimension, number>>, share: number): Partial<Record<Dimension, number>> {
  if (share === 1) return levels;
  const out: Partial<Record<Dimension, number>> = {};
  for (const d of DIMENSIONS) if (levels[d] !== undefined) out[d] = levels[d]! / share;
  return out;
}
