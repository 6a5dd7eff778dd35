/**
 * The `off` store: budgets held in this process alone, in a Map. The reference implementation
 * of the LimitStore contract; the shared stores compute the same things on shared state.
 */
import { adjustAll, clampAll, levelsAt, takeAll, type BudgetState } from './bucket-math.js';
import type { BudgetSnapshot, KeyLink, LimitStore, LinkedKey, PauseResult, PeerInfo, PeerSeen, TakeResult } from './limit-store.js';
import { DIMENSIONS, type BudgetKey, type BudgetSpec, type Cost, type Dimension, type RateLimits } from './types.js';

interface Entry {
  state: BudgetState;
  spec: BudgetSpec;
  pausedUntil: number;
  learned: RateLimits;
}

export class MemoryStore implements LimitStore {
  readonly kind = 'off' as const;
  readonly where = 'this process';
  private readonly entries = new Map<string, Entry>();
  private readonly links = new Map<string, KeyLink>();
  private readonly peerList = new Map<string, Map<string, { info: PeerInfo; seenAt: number }>>();
  private last = 0;
  private readonly clock: () => number;

  private readonly startEmpty: boolean;

  /**
   * `startEmpty`: a bucket this store has not seen yet starts empty rather than full. The fallback
   * wants that: when a shared store goes away mid-run, the other processes are drawing from the
   * API's bucket too, so a fresh full one here would be a burst on top of theirs.
   */
  constructor(options: { now?: () => number; startEmpty?: boolean } = {}) {
    this.clock = options.now ?? Date.now;
    this.startEmpty = options.startEmpty ?? false;
  }

  /** Forgets every bucket level and pause (the learned limits and processes stay). */
  forgetLevels(): void {
    for (const e of this.entries.values()) {
      e.state = {};
      e.pausedUntil = 0;
    }
  }

  /** Every budget's current levels (refilled to now) with the spec they were computed with. */
  levelsNow(): Array<{ key: BudgetKey; levels: Partial<Record<Dimension, number>>; spec: BudgetSpec }> {
    const now = this.now();
    return [...this.entries].map(([id, e]) => {
      const [account, modelClass] = id.split('\u0000') as [string, string];
      return { key: { account, modelClass }, levels: levelsAt(e.state, e.spec, now), spec: e.spec };
    });
  }

  /** New buckets start empty, when asked: a level of 0 at `now`. */
  private seed(e: Entry, spec: BudgetSpec, now: number): void {
    if (!this.startEmpty) return;
    for (const d of DIMENSIONS) if (spec[d] && !e.state[d]) e.state[d] = { level: 0, t: now };
  }

  /** A clock that never runs backwards. */
  private now(): number {
    this.last = Math.max(this.last, this.clock());
    return this.last;
  }

  private entry(key: BudgetKey): Entry {
    const id = `${key.account}\u0000${key.modelClass}`;
    let e = this.entries.get(id);
    if (!e) {
      e = { state: {}, spec: {}, pausedUntil: 0, learned: {} };
      this.entries.set(id, e);
    }
    return e;
  }

  async take(key: BudgetKey, cost: Cost, spec: BudgetSpec): Promise<TakeResult> {
    const now = this.now();
    const e = this.entry(key);
    e.spec = spec;
    if (e.pausedUntil > now) return { ok: false, waitMs: e.pausedUntil - now, heldBy: 'pause' };
    this.seed(e, spec, now);
    const out = takeAll(e.state, spec, cost, now);
    e.state = out.state;
    return out.waitMs > 0 ? { ok: false, waitMs: out.waitMs, heldBy: out.heldBy } : { ok: true, waitMs: 0 };
  }

  async adjust(key: BudgetKey, delta: Partial<Cost>, spec: BudgetSpec): Promise<void> {
    const e = this.entry(key);
    e.spec = spec;
    e.state = adjustAll(e.state, spec, delta, this.now());
  }

  async clamp(key: BudgetKey, levels: Partial<Record<Dimension, number>>, spec: BudgetSpec): Promise<void> {
    const e = this.entry(key);
    e.spec = spec;
    e.state = clampAll(e.state, spec, levels, this.now());
  }

  async pause(key: BudgetKey, ms: number): Promise<PauseResult> {
    const now = this.now();
    const e = this.entry(key);
    const newPause = e.pausedUntil <= now;
    e.pausedUntil = Math.max(e.pausedUntil, now + Math.max(0, ms));
    return { newPause, remainingMs: e.pausedUntil - now };
  }

  async setLearned(key: BudgetKey, limits: RateLimits): Promise<void> {
    const e = this.entry(key);
    for (const k of ['rpm', 'itpm', 'otpm'] as const) if (limits[k] !== undefined) e.learned[k] = limits[k];
  }

  async getLearned(key: BudgetKey): Promise<RateLimits> {
    return { ...this.entry(key).learned };
  }

  async heartbeat(account: string, peer: PeerInfo, activeWithinMs: number): Promise<number> {
    let peers = this.peerList.get(account);
    if (!peers) this.peerList.set(account, (peers = new Map()));
    peers.set(peer.id, { info: { ...peer }, seenAt: this.now() });
    return (await this.peers(account, activeWithinMs)).length;
  }

  async leave(account: string, peerId: string): Promise<void> {
    this.peerList.get(account)?.delete(peerId);
  }

  async peers(account: string, activeWithinMs: number): Promise<PeerSeen[]> {
    const now = this.now();
    const out: PeerSeen[] = [];
    for (const { info, seenAt } of this.peerList.get(account)?.values() ?? []) {
      if (now - seenAt <= activeWithinMs) out.push({ ...info, lastSeenMsAgo: now - seenAt });
    }
    return out;
  }

  async snapshot(account: string): Promise<BudgetSnapshot[]> {
    const now = this.now();
    const out: BudgetSnapshot[] = [];
    for (const [id, e] of this.entries) {
      const [acct, modelClass] = id.split('\u0000') as [string, string];
      if (acct !== account) continue;
      out.push({
        modelClass,
        levels: levelsAt(e.state, e.spec, now),
        spec: e.spec,
        pausedForMs: Math.max(0, e.pausedUntil - now),
        learned: { ...e.learned },
      });
    }
    return out;
  }

  async linkKey(keyId: string, link: KeyLink): Promise<void> {
    this.links.set(keyId, { ...link });
  }

  async linkOf(keyId: string): Promise<KeyLink | undefined> {
    const link = this.links.get(keyId);
    return link ? { ...link } : undefined;
  }

  async keysOf(account: string): Promise<LinkedKey[]> {
    return [...this.links]
      .filter(([, l]) => l.account === account || l.parent === account)
      .map(([keyId, l]) => ({ keyId, ...l }))
      .sort((a, b) => a.keyId.localeCompare(b.keyId));
  }

  async close(): Promise<void> {}
}
