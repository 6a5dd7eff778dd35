/**
 * Prompt caching as the input-token limit sees it. ITPM counts `input_tokens +
 * cache_creation_input_tokens`; cache reads do not count. So a request whose prefix (tools, system,
 * earlier messages up to a `cache_control` breakpoint) is already cached costs only the text after
 * that breakpoint, and one whose prefix is not cached yet costs the whole prompt.
 *
 * The tracker follows each prefix: cold → being written by one request → warm until its TTL (5
 * minutes, or 1 hour with `ttl: "1h"`; every read refreshes it). A write becomes readable only once
 * the request that wrote it has finished, so while one request writes a prefix, the others that
 * share it wait for it instead of each writing it again (a wave of writers is a wave of full-price
 * input tokens: a 429 storm on ITPM). A 429 on input tokens while a prefix was thought warm means
 * the API may have evicted it: prefixes are then treated as cold until a request sent afterwards
 * confirms them.
 */
import { createHash } from 'node:crypto';

/** One `cache_control` breakpoint of a request: the prefix up to and including its block. */
export interface Breakpoint {
  /** sha256 of the model and the canonical prefix (cache_control markers left out). */
  hash: string;
  /** Characters of the prefix, for the token estimate. */
  chars: number;
  ttlMs: number;
}

export interface CachePlan {
  /** In prompt order; empty when the request sets no cache_control. */
  breakpoints: Breakpoint[];
  /** Characters of the whole prompt (tools, system, messages). */
  totalChars: number;
}

export type CacheAdmission =
  | {
      go: true;
      /** Characters that will count as input tokens. */
      uncachedChars: number;
      /** Set when this request writes the prefix: hand it back with onAnswer / onFailure. */
      write?: WriteTicket;
    }
  | { go: false; /** Resolves when the write this request waits for has finished (or failed). */ ready: Promise<void> };

/** Identifies the request writing a prefix. */
export interface WriteTicket {
  readonly hash: string;
}

interface Prefix {
  /** ms since epoch until which it is readable (0: not known to be cached). */
  warmUntil: number;
  /** Too short to cache (below the model's minimum): every request pays it in full, no waiting. */
  uncacheable: boolean;
  /** A request writing it now, and those waiting for it. */
  writing?: { ticket: WriteTicket; done: Promise<void>; release: () => void };
  /** Confirmations from requests sent before this are stale (a suspected eviction). */
  coldSince: number;
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
/** Treat a prefix as expired this long before its TTL runs out: the API's clock and ours differ. */
const EXPIRY_MARGIN_MS = 15_000;

type Json = Record<string, unknown>;

type PlanParams = { model: string; tools?: unknown; system?: unknown; messages?: unknown; cache_control?: unknown };

/** Whether any block of the request (or the request itself) sets cache_control. */
function setsCacheControl(params: PlanParams): boolean {
  if (params.cache_control) return true;
  const marked = (blocks: unknown) => Array.isArray(blocks) && blocks.some((b) => Boolean((b as Json | null)?.cache_control));
  if (marked(params.tools) || marked(params.system)) return true;
  return Array.isArray(params.messages) && (params.messages as Json[]).some((m) => marked(m?.content));
}

/** The characters of a prompt that sets no cache_control (the common case: no hashing, no closures). */
function plainChars(params: PlanParams): number {
  let n = Array.isArray(params.tools) ? params.tools.reduce((sum: number, t) => sum + JSON.stringify(t).length, 0) : 0;
  if (typeof params.system === 'string') n += params.system.length;
  else if (Array.isArray(params.system)) for (const b of params.system) n += blockChars(b);
  if (Array.isArray(params.messages)) {
    for (const m of params.messages as Json[]) {
      const content = m?.content;
      if (typeof content === 'string') n += content.length;
      else if (Array.isArray(content)) for (const b of content) n += blockChars(b);
    }
  }
  return n;
}

/** Builds the cache plan of a request: its breakpoints and its size. Cheap when nothing is cached. */
export function cachePlan(params: PlanParams): CachePlan {
  if (!setsCacheControl(params)) return { breakpoints: [], totalChars: plainChars(params) };
  const blocks: { chars: number; json: () => string; ttl?: keyof typeof TTL_MS }[] = [];
  const add = (block: unknown, chars: number) => {
    const ttl = ttlOf((block as Json | null)?.cache_control);
    blocks.push({ chars, json: () => canonical(block), ttl });
  };
  if (Array.isArray(params.tools)) for (const t of params.tools) add(t, JSON.stringify(t).length);
  if (typeof params.system === 'string') add(params.system, params.system.length);
  else if (Array.isArray(params.system)) for (const b of params.system) add(b, blockChars(b));
  if (Array.isArray(params.messages)) {
    for (const m of params.messages as Json[]) {
      const content = m?.content;
      if (typeof content === 'string') add({ role: m.role, text: content }, content.length);
      else if (Array.isArray(content)) for (const b of content) add({ role: m.role, block: b }, blockChars(b));
    }
  }
  const totalChars = blocks.reduce((n, b) => n + b.chars, 0);
  // Automatic caching: a top-level cache_control puts a breakpoint at the last block.
  const automatic = ttlOf(params.cache_control);
  if (automatic && blocks.length > 0) blocks[blocks.length - 1]!.ttl ??= automatic;
  if (!blocks.some((b) => b.ttl)) return { breakpoints: [], totalChars };

  const breakpoints: Breakpoint[] = [];
  const hash = createHash('sha256').update(params.model).update('\u0000');
  let chars = 0;
  for (const b of blocks) {
    hash.update(b.json()).update('\u0000');
    chars += b.chars;
    if (b.ttl) breakpoints.push({ hash: hash.copy().digest('hex'), chars, ttlMs: TTL_MS[b.ttl] });
  }
  return { breakpoints, totalChars };
}

function ttlOf(cacheControl: unknown): keyof typeof TTL_MS | undefined {
  if (!cacheControl || typeof cacheControl !== 'object') return undefined;
  return (cacheControl as Json).ttl === '1h' ? '1h' : '5m';
}

function blockChars(block: unknown): number {
  const b = block as Json | null;
  if (b && b.type === 'text' && typeof b.text === 'string') return b.text.length;
  return JSON.stringify(block ?? '').length;
}

/** JSON of a block without its cache_control marker, keys in a stable order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === 'cache_control') return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export class PromptCacheTracker {
  private readonly prefixes = new Map<string, Prefix>();
  private readonly now: () => number;
  /** Requests that wrote a prefix / read one, as the API reported. */
  writes = 0;
  reads = 0;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether a request may go now, and how much of it will count as input: the prompt minus its
   * longest warm prefix. When its last breakpoint is being written by another request, it waits.
   */
  admit(plan: CachePlan, sentAt = this.now()): CacheAdmission {
    const bps = plan.breakpoints;
    if (bps.length === 0) return { go: true, uncachedChars: plan.totalChars };
    let readChars = 0;
    for (const bp of bps) if (this.isWarm(this.prefix(bp.hash), sentAt)) readChars = bp.chars;
    const last = bps[bps.length - 1]!;
    const p = this.prefix(last.hash);
    if (this.isWarm(p, sentAt)) return { go: true, uncachedChars: plan.totalChars - last.chars };
    if (p.uncacheable) return { go: true, uncachedChars: plan.totalChars - readChars };
    if (p.writing) return { go: false, ready: p.writing.done };
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => (release = resolve));
    const ticket: WriteTicket = { hash: last.hash };
    p.writing = { ticket, done, release };
    return { go: true, uncachedChars: plan.totalChars - readChars, write: ticket };
  }

  /**
   * After an answer: what `usage` says about the cache. A read or a write makes every prefix of the
   * request readable for its TTL from now; neither means the prefix is too short to cache.
   */
  onAnswer(
    plan: CachePlan,
    sentAt: number,
    usage: { cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null },
    write?: WriteTicket,
  ): void {
    if (plan.breakpoints.length === 0) return;
    const created = usage.cache_creation_input_tokens ?? 0;
    const read = usage.cache_read_input_tokens ?? 0;
    if (created > 0) this.writes += 1;
    if (read > 0) this.reads += 1;
    const now = this.now();
    for (const bp of plan.breakpoints) {
      const p = this.prefix(bp.hash);
      if (created > 0 || read > 0) {
        if (sentAt >= p.coldSince) {
          p.warmUntil = Math.max(p.warmUntil, now + bp.ttlMs - EXPIRY_MARGIN_MS);
          p.uncacheable = false;
        }
      } else if (sentAt >= p.coldSince) {
        p.uncacheable = true;
      }
    }
    this.finishWrite(write);
  }

  /** The request failed or was abandoned: if it was writing a prefix, let another request write it. */
  onFailure(write?: WriteTicket): void {
    this.finishWrite(write);
  }

  /**
   * A 429 on input tokens: the API may have evicted a prefix we thought warm (it charges a write at
   * full price). Treat every prefix as cold until a request sent from now on confirms it.
   */
  suspectEviction(): void {
    const now = this.now();
    for (const p of this.prefixes.values()) {
      if (p.warmUntil > now) {
        p.warmUntil = 0;
        p.coldSince = now;
      }
    }
  }

  private finishWrite(write: WriteTicket | undefined): void {
    if (!write) return;
    const p = this.prefix(write.hash);
    if (p.writing?.ticket === write) {
      const { release } = p.writing;
      p.writing = undefined;
      release();
    }
  }

  private isWarm(p: Prefix, at: number): boolean {
    return p.warmUntil > at;
  }

  private prefix(hash: string): Prefix {
    let p = this.prefixes.get(hash);
    if (!p) {
      p = { warmUntil: 0, uncacheable: false, coldSince: 0 };
      this.prefixes.set(hash, p);
    }
    return p;
  }
}
