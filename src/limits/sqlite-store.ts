/**
 * The `local` store (the default): one SQLite database in the state dir, `limits.sqlite`, shared
 * by every claw-batch process on this machine. Each operation is one `BEGIN IMMEDIATE`
 * transaction that reads the state, computes with bucket-math.ts and writes it back, so two
 * processes never both spend the same tokens. WAL lets readers go on beside a writer; a writer
 * waits up to `busyTimeoutMs` for another one (each holds the lock for microseconds).
 *
 * Time is the machine's wall clock (every process on it reads the same one). The last time seen
 * is persisted, and a clock that steps back counts as no time passed: max(last, now).
 *
 * A file that stays locked past the timeout, or that is not (or no longer) a SQLite database,
 * throws `LimitStoreError` naming the file; fallback-store.ts then paces alone until it answers.
 * After a corruption error the connection is dropped and reopened on the next call, so a file that
 * was deleted or replaced is picked up again.
 *
 * With `deferWritesMs`, `adjust` (the settle after every answer: a give-back or a charge) and
 * `clamp` (every answer's headers: what the API says remains) do not open a transaction of their
 * own: they are written with this process's next operation, or after that many ms, whichever comes
 * first — one transaction per request instead of three. Other processes see the correction that
 * much later; this one always sees its own, since every operation applies the waiting ones first,
 * in order, in its own transaction. (A clamp applied later than it was read is a little
 * conservative: the bucket is lowered to the reading without the refill of those few ms.) Each
 * budget a transaction touches is read and written once, however many operations it applies.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { adjustAll, clampAll, levelsAt, takeAll, type BudgetState } from './bucket-math.js';
import { LimitStoreError, type BudgetSnapshot, type KeyLink, type LimitStore, type LinkedKey, type PauseResult, type PeerInfo, type PeerSeen, type TakeResult } from './limit-store.js';
import type { BudgetKey, BudgetSpec, Cost, Dimension, RateLimits } from './types.js';

/** The database's file name inside the state dir. */
export const SQLITE_FILE = 'limits.sqlite';

/** Peers not seen for this long are deleted (an hour, or the window asked for if longer). */
const PEER_RETENTION_MS = 3_600_000;

export interface SqliteStoreOptions {
  /** The database file, created with its folder when missing. Usually `sqliteFileIn(stateDir())`. */
  file: string;
  /** How long one call waits for another process's transaction before failing. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** The clock, in ms. Default `Date.now` (shared by every process on the machine). */
  now?: () => number;
  /** Write `adjust` and `clamp` calls with the next operation, at the latest after this many ms. Default 0: at once. */
  deferWritesMs?: number;
}

/** An `adjust` or `clamp` waiting to be written. */
type PendingWrite =
  | { kind: 'adjust'; key: BudgetKey; delta: Partial<Cost>; spec: BudgetSpec }
  | { kind: 'clamp'; key: BudgetKey; levels: Partial<Record<Dimension, number>>; spec: BudgetSpec };

/** The budgets one transaction has read, each written back once at its end. */
type Budgets = (key: BudgetKey) => Budget;

export function sqliteFileIn(stateDir: string): string {
  return join(stateDir, SQLITE_FILE);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget (
  account TEXT NOT NULL,
  model_class TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT '{}',
  spec TEXT NOT NULL DEFAULT '{}',
  paused_until REAL NOT NULL DEFAULT 0,
  learned TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (account, model_class)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS peer (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  info TEXT NOT NULL,
  seen_at REAL NOT NULL,
  PRIMARY KEY (account, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS key_link (
  key_id TEXT NOT NULL PRIMARY KEY,
  account TEXT NOT NULL,
  parent TEXT,
  link TEXT NOT NULL,
  linked_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 1), last REAL NOT NULL);
`;

interface BudgetRow {
  state: string;
  spec: string;
  paused_until: number;
  learned: string;
}

interface Budget {
  state: BudgetState;
  spec: BudgetSpec;
  pausedUntil: number;
  learned: RateLimits;
}

/** The prepared statements of one open connection. */
class Connection {
  readonly db: Database.Database;
  /** Runs a function as one BEGIN IMMEDIATE transaction (COMMIT, or ROLLBACK when it throws). */
  readonly immediate: <T>(fn: () => T) => T;
  readonly getClock;
  readonly setClock;
  readonly getBudget;
  readonly putBudget;
  readonly accountBudgets;
  readonly putPeer;
  readonly prunePeers;
  readonly deletePeer;
  readonly accountPeers;
  readonly putLink;
  readonly getLink;
  readonly accountLinks;

  constructor(file: string, busyTimeoutMs: number) {
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL is safe against corruption; a power cut may forget the last takes,
      // which only means a little less pacing history.
      db.pragma('synchronous = NORMAL');
      db.transaction(() => db.exec(SCHEMA)).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    const inTx = db.transaction((fn: () => unknown) => fn());
    this.immediate = <T>(fn: () => T) => inTx.immediate(fn) as T;
    this.getClock = db.prepare<[], { last: number }>('SELECT last FROM clock WHERE id = 1');
    this.setClock = db.prepare<[number]>('INSERT INTO clock (id, last) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last = excluded.last');
    this.getBudget = db.prepare<[string, string], BudgetRow>('SELECT state, spec, paused_until, learned FROM budget WHERE account = ? AND model_class = ?');
    this.putBudget = db.prepare<[string, string, string, string, number, string]>(
      `INSERT INTO budget (account, model_class, state, spec, paused_until, learned) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (account, model_class) DO UPDATE SET
         state = excluded.state, spec = excluded.spec, paused_until = excluded.paused_until, learned = excluded.learned`,
    );
    this.accountBudgets = db.prepare<[string], BudgetRow & { model_class: string }>(
      'SELECT model_class, state, spec, paused_until, learned FROM budget WHERE account = ? ORDER BY model_class',
    );
    this.putPeer = db.prepare<[string, string, string, number]>(
      'INSERT INTO peer (account, id, info, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (account, id) DO UPDATE SET info = excluded.info, seen_at = excluded.seen_at',
    );
    this.prunePeers = db.prepare<[string, number]>('DELETE FROM peer WHERE account = ? AND seen_at < ?');
    this.deletePeer = db.prepare<[string, string]>('DELETE FROM peer WHERE account = ? AND id = ?');
    this.accountPeers = db.prepare<[string], { info: string; seen_at: number }>('SELECT info, seen_at FROM peer WHERE account = ? ORDER BY id');
    this.putLink = db.prepare<[string, string, string | null, string, number]>(
      `INSERT INTO key_link (key_id, account, parent, link, linked_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key_id) DO UPDATE SET account = excluded.account, parent = excluded.parent, link = excluded.link, linked_at = excluded.linked_at`,
    );
    this.getLink = db.prepare<[string], { link: string }>('SELECT link FROM key_link WHERE key_id = ?');
    this.accountLinks = db.prepare<[string, string], { key_id: string; link: string }>(
      'SELECT key_id, link FROM key_link WHERE account = ? OR parent = ? ORDER BY key_id',
    );
  }
}

export class SqliteStore implements LimitStore {
  readonly kind = 'local' as const;
  readonly where: string;
  private readonly file: string;
  private readonly busyTimeoutMs: number;
  private readonly clock: () => number;
  private conn: Connection | undefined;
  private readonly deferWritesMs: number;
  /** `adjust` and `clamp` calls not written yet, in the order they were made. */
  private pending: PendingWrite[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  /** Opens (creating when missing) the database; throws `LimitStoreError` when it cannot be used. */
  constructor(options: SqliteStoreOptions) {
    this.file = options.file;
    this.where = options.file;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 1000;
    this.clock = options.now ?? Date.now;
    this.deferWritesMs = options.deferWritesMs ?? 0;
    this.connection();
  }

  private connection(): Connection {
    if (this.conn) return this.conn;
    try {
      this.conn = new Connection(this.file, this.busyTimeoutMs);
      return this.conn;
    } catch (err) {
      throw this.failure(err);
    }
  }

  private failure(err: unknown): LimitStoreError {
    const code = (err as { code?: string }).code ?? '';
    if (/^SQLITE_(CORRUPT|NOTADB|IOERR|CANTOPEN|READONLY)/.test(code) && this.conn) {
      // Drop the connection: the file may have been replaced; the next call opens it afresh.
      try {
        this.conn.db.close();
      } catch {
        // already unusable
      }
      this.conn = undefined;
    }
    const why = code === 'SQLITE_BUSY' ? `locked by another process for over ${this.busyTimeoutMs} ms` : (err as Error).message;
    return new LimitStoreError(this.where, `${this.file}: ${why}`, { cause: err });
  }

  /**
   * Runs `fn` as one BEGIN IMMEDIATE transaction on the store's never-backwards clock, after the
   * waiting writes. With `throughBudgets`, `fn` reads budgets only through `budgets` (each read
   * once per transaction, the waiting writes' included, and all written back at the end); without,
   * the waiting writes are written before `fn`, which may read the rows itself.
   */
  private tx<T>(fn: (c: Connection, now: number, budgets: Budgets) => T, throughBudgets = false): T {
    const c = this.connection();
    try {
      const out = c.immediate(() => {
        const now = Math.max(c.getClock.get()?.last ?? 0, this.clock());
        c.setClock.run(now);
        const read = new Map<string, { key: BudgetKey; budget: Budget }>();
        const budgets: Budgets = (key) => {
          const id = `${key.account}\u0000${key.modelClass}`;
          let entry = read.get(id);
          if (!entry) read.set(id, (entry = { key, budget: readBudget(c, key) }));
          return entry.budget;
        };
        const writeBack = () => {
          for (const { key, budget } of read.values()) writeBudget(c, key, budget);
          read.clear();
        };
        for (const p of this.pending) {
          const b = budgets(p.key);
          b.spec = p.spec;
          b.state = p.kind === 'adjust' ? adjustAll(b.state, p.spec, p.delta, now) : clampAll(b.state, p.spec, p.levels, now);
        }
        if (!throughBudgets) writeBack();
        const result = fn(c, now, budgets);
        writeBack();
        return result;
      });
      // Committed: the waiting writes are written (a failed transaction keeps them for the next).
      this.pending = [];
      return out;
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** Writes the waiting adjustments now; a failure leaves them for the next operation. */
  private flushPending(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    try {
      this.tx(() => undefined);
    } catch {
      // The store is failing: the next operation says so (and the caller falls back to pacing alone).
    }
  }

  /** Queues a write for the next operation (or the timer), when writes are deferred. */
  private defer(write: PendingWrite): boolean {
    if (this.deferWritesMs <= 0) return false;
    this.pending.push(write);
    this.flushTimer ??= setTimeout(() => this.flushPending(), this.deferWritesMs);
    return true;
  }

  /** Reads, changes and writes back one budget inside a transaction. */
  private withBudget<T>(key: BudgetKey, fn: (b: Budget, now: number) => T): Promise<T> {
    return Promise.resolve().then(() => this.tx((_c, now, budgets) => fn(budgets(key), now), true));
  }

  take(key: BudgetKey, cost: Cost, spec: BudgetSpec): Promise<TakeResult> {
    return this.withBudget(key, (b, now): TakeResult => {
      b.spec = spec;
      if (b.pausedUntil > now) return { ok: false, waitMs: b.pausedUntil - now, heldBy: 'pause' };
      const out = takeAll(b.state, spec, cost, now);
      b.state = out.state;
      return out.waitMs > 0 ? { ok: false, waitMs: out.waitMs, heldBy: out.heldBy } : { ok: true, waitMs: 0 };
    });
  }

  async adjust(key: BudgetKey, delta: Partial<Cost>, spec: BudgetSpec): Promise<void> {
    if (this.defer({ kind: 'adjust', key, delta, spec })) return;
    await this.withBudget(key, (b, now) => {
      b.spec = spec;
      b.state = adjustAll(b.state, spec, delta, now);
    });
  }

  async clamp(key: BudgetKey, levels: Partial<Record<Dimension, number>>, spec: BudgetSpec): Promise<void> {
    if (this.defer({ kind: 'clamp', key, levels, spec })) return;
    await this.withBudget(key, (b, now) => {
      b.spec = spec;
      b.state = clampAll(b.state, spec, levels, now);
    });
  }

  pause(key: BudgetKey, ms: number): Promise<PauseResult> {
    return this.withBudget(key, (b, now) => {
      const newPause = b.pausedUntil <= now;
      b.pausedUntil = Math.max(b.pausedUntil, now + Math.max(0, ms));
      return { newPause, remainingMs: b.pausedUntil - now };
    });
  }

  async setLearned(key: BudgetKey, limits: RateLimits): Promise<void> {
    await this.withBudget(key, (b) => {
      for (const k of ['rpm', 'itpm', 'otpm'] as const) if (limits[k] !== undefined) b.learned[k] = limits[k];
    });
  }

  async getLearned(key: BudgetKey): Promise<RateLimits> {
    return this.tx((c) => {
      const row = c.getBudget.get(key.account, key.modelClass);
      return row ? parseRow(row).learned : {};
    });
  }

  async heartbeat(account: string, peer: PeerInfo, activeWithinMs: number): Promise<number> {
    return this.tx((c, now) => {
      c.putPeer.run(account, peer.id, JSON.stringify(peer), now);
      c.prunePeers.run(account, now - Math.max(activeWithinMs, PEER_RETENTION_MS));
      return activePeers(c, account, now, activeWithinMs).length;
    });
  }

  async leave(account: string, peerId: string): Promise<void> {
    this.tx((c) => c.deletePeer.run(account, peerId));
  }

  async peers(account: string, activeWithinMs: number): Promise<PeerSeen[]> {
    return this.tx((c, now) => activePeers(c, account, now, activeWithinMs));
  }

  async snapshot(account: string): Promise<BudgetSnapshot[]> {
    return this.tx((c, now) =>
      c.accountBudgets.all(account).map((row) => {
        const b = parseRow(row);
        return {
          modelClass: row.model_class,
          levels: levelsAt(b.state, b.spec, now),
          spec: b.spec,
          pausedForMs: Math.max(0, b.pausedUntil - now),
          learned: b.learned,
        };
      }),
    );
  }

  async linkKey(keyId: string, link: KeyLink): Promise<void> {
    this.tx((c, now) => c.putLink.run(keyId, link.account, link.parent ?? null, JSON.stringify(link), now));
  }

  async linkOf(keyId: string): Promise<KeyLink | undefined> {
    return this.tx((c) => {
      const row = c.getLink.get(keyId);
      return row ? (JSON.parse(row.link) as KeyLink) : undefined;
    });
  }

  async keysOf(account: string): Promise<LinkedKey[]> {
    return this.tx((c) => c.accountLinks.all(account, account).map((row) => ({ keyId: row.key_id, ...(JSON.parse(row.link) as KeyLink) })));
  }

  async close(): Promise<void> {
    this.flushPending();
    this.conn?.db.close();
    this.conn = undefined;
  }
}

function readBudget(c: Connection, key: BudgetKey): Budget {
  const row = c.getBudget.get(key.account, key.modelClass);
  return row ? parseRow(row) : { state: {}, spec: {}, pausedUntil: 0, learned: {} };
}

function writeBudget(c: Connection, key: BudgetKey, b: Budget): void {
  c.putBudget.run(key.account, key.modelClass, JSON.stringify(b.state), JSON.stringify(b.spec), b.pausedUntil, JSON.stringify(b.learned));
}

function parseRow(row: BudgetRow): Budget {
  return {
    state: JSON.parse(row.state) as BudgetState,
    spec: JSON.parse(row.spec) as BudgetSpec,
    pausedUntil: row.paused_until,
    learned: JSON.parse(row.learned) as RateLimits,
  };
}

function activePeers(c: Connection, account: string, now: number, activeWithinMs: number): PeerSeen[] {
  const out: PeerSeen[] = [];
  for (const { info, seen_at } of c.accountPeers.all(account)) {
    if (now - seen_at <= activeWithinMs) out.push({ ...(JSON.parse(info) as PeerInfo), lastSeenMsAgo: now - seen_at });
  }
  return out;
}
