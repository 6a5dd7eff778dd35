/**
 * Where an account's budgets live. One small interface, one file per store, chosen in one place
 * (open-store.ts); one contract test suite (test/limits/store-contract.ts) runs against them all:
 * - `off` (memory-store.ts): this process alone;
 * - `local` (sqlite-store.ts): every claw-batch process on this machine using the same key;
 * - `redis://…` (redis-store.ts): every process on every machine using that Redis.
 *
 * What is shared, per (account, model class): the bucket levels of the three dimensions, the 429
 * pause, the limits the API reported, and which processes are using them. Every operation is
 * atomic on the store. Times cross the interface as durations, never as timestamps, because each
 * store keeps time on its own clock (Redis on its server's `TIME`, so machines whose clocks differ
 * still agree). Nothing is leased: what a process took is simply spent and refills, so a process
 * that dies leaves nothing stuck.
 */
import type { BudgetKey, BudgetSpec, Cost, Dimension, RateLimits } from './types.js';

export interface TakeResult {
  /** True when the cost was taken from every dimension. */
  ok: boolean;
  /** When not taken: ms until it could be (the pause, or the slowest dimension's refill). */
  waitMs: number;
  /** What holds it back: a 429 pause in force, or the dimension that waits longest. */
  heldBy?: Dimension | 'pause';
}

export interface PauseResult {
  /** True when no pause was in force before this one (the pace steps down once per pause). */
  newPause: boolean;
  /** ms the pause now has left (the longer of the old and the new). */
  remainingMs: number;
}

/**
 * Which organization (and workspace) an API key belongs to, as the API's answers name it
 * (`anthropic-organization-id`, `anthropic-workspace-id`). The API's limits are the organization's,
 * so every key linked to one account draws from the same budgets.
 */
export interface KeyLink {
  /** The account whose budgets the key draws from (account-key.ts `organizationAccount`). */
  account: string;
  /** When `account` is a workspace's: its organization's account, which the key's requests count against too. */
  parent?: string;
  organization: string;
  workspace?: string;
}

/** A key linked to an account, as `keysOf` lists it. */
export interface LinkedKey extends KeyLink {
  /** The key's fingerprint (account-key.ts `accountFingerprint`), never the key. */
  keyId: string;
}

/** One process that uses the store, as `claw-batch limits` lists it. */
export interface PeerInfo {
  /** Unique per process: `<host>:<pid>:<random>`. */
  id: string;
  host: string;
  pid: number;
  /** `run`, `proxy`, … */
  command: string;
  /** The fingerprint of the API key it uses for this account (a proxy lists one entry per key). */
  keyId?: string;
  /** Model classes it is drawing from. */
  modelClasses: string[];
}

export interface PeerSeen extends PeerInfo {
  /** ms since its last heartbeat, on the store's clock. */
  lastSeenMsAgo: number;
}

/** One model class's budget as the store holds it now. */
export interface BudgetSnapshot {
  modelClass: string;
  /** Levels now (refilled, capped at capacity) for the dimensions that have a known limit. */
  levels: Partial<Record<Dimension, number>>;
  /** The per-minute limits the levels were last computed with. */
  spec: BudgetSpec;
  /** ms left of a 429 pause; 0 when none is in force. */
  pausedForMs: number;
  /** The limits the API reported for this class (shared learned limits). */
  learned: RateLimits;
}

export interface LimitStore {
  /** `off`, `local` or `redis`. */
  readonly kind: 'off' | 'local' | 'redis';
  /** Where, for messages: a file path, or the Redis URL with its password masked. */
  readonly where: string;

  /**
   * Takes `cost` from every dimension in `spec`, or from none, unless a pause is in force.
   * Dimensions missing from `spec` are not limited.
   */
  take(key: BudgetKey, cost: Cost, spec: BudgetSpec): Promise<TakeResult>;
  /** Per-dimension deltas: positive gives back (never above capacity), negative charges (may go into debt). */
  adjust(key: BudgetKey, delta: Partial<Cost>, spec: BudgetSpec): Promise<void>;
  /** Lowers each dimension to the given level when that is below the store's (the API said less remains). */
  clamp(key: BudgetKey, levels: Partial<Record<Dimension, number>>, spec: BudgetSpec): Promise<void>;
  /** Every process drawing from `key` waits `ms` (the longer pause wins). */
  pause(key: BudgetKey, ms: number): Promise<PauseResult>;

  /** Records the limits the API reported for `key` (merged: a reported dimension replaces the old value). */
  setLearned(key: BudgetKey, limits: RateLimits): Promise<void>;
  getLearned(key: BudgetKey): Promise<RateLimits>;

  /**
   * Registers or refreshes this process for `account`; returns how many processes (this one
   * included) were seen within `activeWithinMs`.
   */
  heartbeat(account: string, peer: PeerInfo, activeWithinMs: number): Promise<number>;
  /** Removes this process from `account`'s list (on a clean exit; a dead one simply ages out). */
  leave(account: string, peerId: string): Promise<void>;
  /** Processes seen for `account` within `activeWithinMs`. */
  peers(account: string, activeWithinMs: number): Promise<PeerSeen[]>;
  /** Every model class the store knows for `account`. */
  snapshot(account: string): Promise<BudgetSnapshot[]>;

  /** Records which account a key's answers named (a later link of the same key replaces it). */
  linkKey(keyId: string, link: KeyLink): Promise<void>;
  /** The account a key was linked to, by this process or any other on the store. */
  linkOf(keyId: string): Promise<KeyLink | undefined>;
  /** The keys linked to `account`, as their own account or as its parent (a workspace's keys). */
  keysOf(account: string): Promise<LinkedKey[]>;

  close(): Promise<void>;
}

/** A store that could not be reached or used: the caller falls back to pacing alone. */
export class LimitStoreError extends Error {
  readonly where: string;
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LimitStoreError';
    this.where = where;
  }
}
