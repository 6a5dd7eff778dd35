/**
 * The `redis://…` store: every process on every machine that uses the same Redis shares one budget
 * per (account, model class). Each operation is one Lua script (redis-scripts.ts) run on Redis's
 * own clock, so machines whose clocks differ still agree.
 *
 * Keys (hash tags keep each group in one Redis Cluster slot, so every script's keys do too):
 * - `claw-batch:{<account>:<class>}:budget`: a hash of the bucket levels, the pause, the spec and
 *   the learned limits of one model class (expires after a week unused);
 * - `claw-batch:{<account>}:peers` / `:peer-info`: who is drawing, scored by the server's time;
 * - `claw-batch:{<account>}:classes`: the model classes the account has used, for `snapshot()`;
 * - `claw-batch:key:{<key fingerprint>}`: the account (organization) a key belongs to, and
 *   `claw-batch:{<account>}:keys`: the keys linked to an account (both expire after 30 days unused).
 *
 * The URL may name any node of a Redis Cluster: the store sees `cluster_enabled:1` and switches to
 * ioredis's cluster client, which follows each key's slot to its node.
 *
 * The client is ioredis with its offline queue off, no resend of a command whose connection
 * dropped, and a command timeout: while Redis is down every call throws `LimitStoreError` within
 * about `commandTimeoutMs` instead of queueing, and the client reconnects in the background
 * (every `reconnectMs` at most) so the next call after Redis returns simply works.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { isIP } from 'node:net';
import { maskUrlPassword } from '../secrets.js';
import { LimitStoreError, type BudgetSnapshot, type KeyLink, type LimitStore, type LinkedKey, type PauseResult, type PeerInfo, type PeerSeen, type TakeResult } from './limit-store.js';
import { BUDGET_SCRIPT, PEERS_SCRIPT } from './redis-scripts.js';
import { DIMENSIONS, type BudgetKey, type BudgetSpec, type Cost, type Dimension, type RateLimits } from './types.js';

const BUDGET_TTL_MS = 7 * 24 * 3_600_000;
const PEERS_TTL_MS = 24 * 3_600_000;
const LINK_TTL_MS = 30 * 24 * 3_600_000;
/** Peers not seen for this long are deleted (an hour, or the window asked for if longer). */
const PEER_RETENTION_MS = 3_600_000;

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: string;
  /** The longest one call waits for an answer before it throws. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** The longest the first connection may take. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** The longest pause between reconnection attempts while Redis is away. Default 1000 ms. */
  reconnectMs?: number;
  /**
   * For tests only: a clock (ms) sent with each call instead of Redis's own `TIME`, so the
   * contract suite can hold the Lua port to exact figures. Default: the server's clock.
   */
  now?: () => number;
}

/** ioredis options from a `redis://` or `rediss://` URL; throws a plain Error saying what is wrong. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`expected redis:// or rediss://, got ${u.protocol}//`);
  if (!u.hostname) throw new Error('no host');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`the database must be a number, got "${db}"`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db === '' ? 0 : Number(db),
    // SNI names a host, never an address (RFC 6066); a certificate for an address is checked all the same.
    tls: u.protocol === 'rediss:' ? (isIP(host) ? {} : { servername: host }) : undefined,
  };
}

type ScriptReply = Array<string | null>;
interface ScriptClient extends Redis {
  clawBudget(key: string, ...args: string[]): Promise<ScriptReply>;
  clawPeers(seen: string, info: string, ...args: string[]): Promise<ScriptReply | number>;
}

export class RedisStore implements LimitStore {
  readonly kind = 'redis' as const;
  readonly where: string;
  private readonly client: ScriptClient;
  /** Model classes this process has registered in the account's classes set. */
  private readonly knownClasses = new Set<string>();
  private readonly clock: (() => number) | undefined;

  private constructor(where: string, client: ScriptClient, clock: (() => number) | undefined) {
    this.where = where;
    this.client = client;
    this.clock = clock;
  }

  /** The clock argument of every script: '' lets Redis use its own. */
  private nowArg(): string {
    return this.clock ? String(this.clock()) : '';
  }

  /** Connects and checks that Redis answers; throws `LimitStoreError` naming the masked URL when not. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const where = maskUrlPassword(options.url);
    let base: RedisOptions;
    try {
      base = redisOptionsFromUrl(options.url);
    } catch (err) {
      throw new LimitStoreError(where, `${where}: ${(err as Error).message}`);
    }
    let client = standaloneClient(base, options);
    let lastError: Error | undefined;
    const opened = async (c: ScriptClient) => {
      // Without a listener ioredis prints every failed reconnection; the calls report failures themselves.
      c.on('error', (err: Error) => (lastError = err));
      const limitMs = 2 * (options.connectTimeoutMs ?? 2000);
      let timer: NodeJS.Timeout | undefined;
      try {
        // The cluster client has no deadline of its own while it looks for the slots' nodes.
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
        });
        await Promise.race([c.connect().then(() => c.ping()), deadline]);
      } catch (err) {
        c.disconnect();
        throw new LimitStoreError(where, `${where}: ${describeRedisError(lastError ?? err)}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    };
    await opened(client);
    if (await isClusterNode(client)) {
      // Any node of a Redis Cluster will do: the cluster client finds the others and follows
      // each key's slot to its node.
      client.disconnect();
      if (base.db) throw new LimitStoreError(where, `${where}: a Redis Cluster has only database 0, not ${base.db}`);
      client = clusterClient(base, options);
      await opened(client);
    }
    return new RedisStore(where, client, options.now);
  }

  private failure(err: unknown): LimitStoreError {
    // Redis may have restarted empty: register the model classes again once it answers.
    this.knownClasses.clear();
    return new LimitStoreError(this.where, `${this.where}: ${describeRedisError(err)}`, { cause: err });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.failure(err);
    }
  }

  private budgetKey(key: BudgetKey): string {
    return `claw-batch:{${key.account}:${key.modelClass}}:budget`;
  }

  private linkKeyName(keyId: string): string {
    return `claw-batch:key:{${keyId}}`;
  }

  private accountKey(account: string, what: 'peers' | 'peer-info' | 'classes' | 'keys'): string {
    return `claw-batch:{${account}}:${what}`;
  }

  /** Adds the model class to the account's list, once per process (and again after a failure). */
  private async register(key: BudgetKey): Promise<void> {
    const id = `${key.account}\u0000${key.modelClass}`;
    if (this.knownClasses.has(id)) return;
    const classes = this.accountKey(key.account, 'classes');
    await this.client.multi().sadd(classes, key.modelClass).pexpire(classes, BUDGET_TTL_MS).exec();
    this.knownClasses.add(id);
  }

  private async budget(key: BudgetKey, op: string, spec: BudgetSpec, values: Partial<Record<Dimension, number>>): Promise<ScriptReply> {
    return this.call(async () => {
      await this.register(key);
      const args = DIMENSIONS.map((d) => (values[d] !== undefined && Number.isFinite(values[d]) ? String(values[d]) : ''));
      return this.client.clawBudget(this.budgetKey(key), op, this.nowArg(), JSON.stringify(spec), ...args, String(BUDGET_TTL_MS));
    });
  }

  async take(key: BudgetKey, cost: Cost, spec: BudgetSpec): Promise<TakeResult> {
    const [ok, waitMs, heldBy] = await this.budget(key, 'take', spec, cost);
    if (ok === '1') return { ok: true, waitMs: 0 };
    return { ok: false, waitMs: Number(waitMs), heldBy: (heldBy || undefined) as TakeResult['heldBy'] };
  }

  async adjust(key: BudgetKey, delta: Partial<Cost>, spec: BudgetSpec): Promise<void> {
    await this.budget(key, 'adjust', spec, delta);
  }

  async clamp(key: BudgetKey, levels: Partial<Record<Dimension, number>>, spec: BudgetSpec): Promise<void> {
    await this.budget(key, 'clamp', spec, levels);
  }

  async pause(key: BudgetKey, ms: number): Promise<PauseResult> {
    const [newPause, remainingMs] = await this.budget(key, 'pause', {}, { requests: ms });
    return { newPause: newPause === '1', remainingMs: Number(remainingMs) };
  }

  async setLearned(key: BudgetKey, limits: RateLimits): Promise<void> {
    const fields = (['rpm', 'itpm', 'otpm'] as const).flatMap((k) => (limits[k] === undefined ? [] : [k, String(limits[k])]));
    if (fields.length === 0) return;
    await this.call(async () => {
      await this.register(key);
      await this.client.multi().hset(this.budgetKey(key), ...fields).pexpire(this.budgetKey(key), BUDGET_TTL_MS).exec();
    });
  }

  async getLearned(key: BudgetKey): Promise<RateLimits> {
    const [rpm, itpm, otpm] = await this.call(() => this.client.hmget(this.budgetKey(key), 'rpm', 'itpm', 'otpm'));
    return learned(rpm, itpm, otpm);
  }

  private peersCall(account: string, op: string, ...args: string[]) {
    return this.call(() => this.client.clawPeers(this.accountKey(account, 'peers'), this.accountKey(account, 'peer-info'), op, this.nowArg(), ...args));
  }

  async heartbeat(account: string, peer: PeerInfo, activeWithinMs: number): Promise<number> {
    const retention = Math.max(activeWithinMs, PEER_RETENTION_MS);
    const n = await this.peersCall(account, 'heartbeat', peer.id, JSON.stringify(peer), String(activeWithinMs), String(retention), String(PEERS_TTL_MS));
    return Number(n);
  }

  async leave(account: string, peerId: string): Promise<void> {
    await this.peersCall(account, 'leave', peerId);
  }

  async peers(account: string, activeWithinMs: number): Promise<PeerSeen[]> {
    const flat = (await this.peersCall(account, 'peers', String(activeWithinMs))) as ScriptReply;
    const out: PeerSeen[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      out.push({ ...(JSON.parse(flat[i + 1] ?? '{}') as PeerInfo), lastSeenMsAgo: Number(flat[i + 2]) });
    }
    return out;
  }

  async snapshot(account: string): Promise<BudgetSnapshot[]> {
    const classes = (await this.call(() => this.client.smembers(this.accountKey(account, 'classes')))).sort();
    const out: BudgetSnapshot[] = [];
    for (const modelClass of classes) {
      const key = { account, modelClass };
      const [levels, spec, pausedForMs, rpm, itpm, otpm] = await this.call(() => this.client.clawBudget(this.budgetKey(key), 'snapshot', this.nowArg(), '{}', '', '', '', '0'));
      out.push({
        modelClass,
        levels: Object.fromEntries(Object.entries(JSON.parse(levels ?? '{}') as Record<string, string>).map(([d, v]) => [d, Number(v)])),
        spec: JSON.parse(spec ?? '{}') as BudgetSpec,
        pausedForMs: Number(pausedForMs),
        learned: learned(rpm, itpm, otpm),
      });
    }
    return out;
  }

  async linkKey(keyId: string, link: KeyLink): Promise<void> {
    // Three commands on up to three cluster slots: each is idempotent, so a partial write is
    // simply completed by the next link (every process links its key when it learns the account).
    await this.call(async () => {
      const previous = await this.linkOf(keyId);
      await this.client.set(this.linkKeyName(keyId), JSON.stringify(link), 'PX', LINK_TTL_MS);
      for (const account of [link.account, link.parent]) {
        if (!account) continue;
        const keys = this.accountKey(account, 'keys');
        await this.client.multi().sadd(keys, keyId).pexpire(keys, LINK_TTL_MS).exec();
      }
      for (const account of [previous?.account, previous?.parent]) {
        if (account && account !== link.account && account !== link.parent) await this.client.srem(this.accountKey(account, 'keys'), keyId);
      }
    });
  }

  async linkOf(keyId: string): Promise<KeyLink | undefined> {
    const text = await this.call(() => this.client.get(this.linkKeyName(keyId)));
    return text ? (JSON.parse(text) as KeyLink) : undefined;
  }

  async keysOf(account: string): Promise<LinkedKey[]> {
    const ids = (await this.call(() => this.client.smembers(this.accountKey(account, 'keys')))).sort();
    const out: LinkedKey[] = [];
    for (const keyId of ids) {
      const link = await this.linkOf(keyId);
      if (link && (link.account === account || link.parent === account)) out.push({ keyId, ...link });
    }
    return out;
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

/** The options both clients share: fail fast while Redis is away, reconnect in the background. */
function failFast(options: RedisStoreOptions) {
  return {
    // RESP2 works with every Redis and with the proxies in front of managed ones.
    protocol: 2 as const,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    // ioredis leaves this timer running when it disconnects a socket that is already closed,
    // which would hold a failed command's exit for its default 2 s.
    disconnectTimeout: 100,
    connectionName: 'claw-batch',
    disableClientInfo: true,
  };
}

function withScripts<T extends Redis | Cluster>(client: T): ScriptClient {
  client.defineCommand('clawBudget', { numberOfKeys: 1, lua: BUDGET_SCRIPT });
  client.defineCommand('clawPeers', { numberOfKeys: 2, lua: PEERS_SCRIPT });
  // Both clients have the same commands; typed as one so the store need not tell them apart.
  return client as unknown as ScriptClient;
}

function standaloneClient(base: RedisOptions, options: RedisStoreOptions): ScriptClient {
  const reconnectMs = options.reconnectMs ?? 1000;
  return withScripts(
    new Redis({
      ...base,
      ...failFast(options),
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(50 * 2 ** times, reconnectMs),
    }),
  );
}

function clusterClient(base: RedisOptions, options: RedisStoreOptions): ScriptClient {
  const reconnectMs = options.reconnectMs ?? 1000;
  const { host, port, db: _db, ...auth } = base;
  return withScripts(
    new Cluster([{ host, port }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, reconnectMs),
      slotsRefreshTimeout: options.connectTimeoutMs ?? 2000,
      redisOptions: { ...auth, ...failFast(options) },
    }),
  );
}

async function isClusterNode(client: ScriptClient): Promise<boolean> {
  try {
    return /^cluster_enabled:1\b/m.test(await client.info('cluster'));
  } catch {
    // A proxy that does not know INFO: a single Redis as far as we can tell.
    return false;
  }
}

function learned(rpm: string | null | undefined, itpm: string | null | undefined, otpm: string | null | undefined): RateLimits {
  const out: RateLimits = {};
  if (rpm) out.rpm = Number(rpm);
  if (itpm) out.itpm = Number(itpm);
  if (otpm) out.otpm = Number(otpm);
  return out;
}

/** "connection refused", "timed out", the server's own word: short enough for a one-line notice. */
export function describeRedisError(err: unknown): string {
  const e = err as { code?: string; message?: string; name?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset';
  }
  const message = e.message ?? String(err);
  if (/Command timed out/i.test(message)) return 'no answer within the command timeout';
  if (/enableOfflineQueue|Stream isn't writeable|Connection is closed|MaxRetriesPerRequest/i.test(message)) return 'not connected';
  if (/WRONGPASS|NOAUTH|invalid password/i.test(message)) return `authentication failed (${message.split('\n')[0]})`;
  return message.split('\n')[0]!;
}
