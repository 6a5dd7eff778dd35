/**
 * Prompt caching as the API does it (platform.claude.com/docs/en/build-with-claude/prompt-caching):
 * an entry is keyed by the model and a hash of the prompt prefix up to a breakpoint; it lives 5
 * minutes (1 hour with `ttl: "1h"`), is refreshed every time it is read, and becomes readable
 * only once the request that wrote it has finished successfully, so concurrent requests with the
 * same cold prefix each write (and are each charged for it). A prefix shorter than the minimum
 * cacheable length is not cached; its tokens count as plain input.
 */
import { createHash } from 'node:crypto';
import { baseModel } from './model-classes.js';
import type { CacheTtl, PromptLayout } from './prompt-layout.js';

const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

export interface CacheSettings {
  /** Shortest cacheable prefix, in tokens. */
  minTokens: number;
  /** Multiplies every TTL (0.01 makes 5 minutes 3 seconds). */
  ttlScale: number;
}

/** How a request's input splits, and what it will read and write. */
export interface CachePlan {
  /** Tokens neither read from nor written to the cache. */
  inputTokens: number;
  cacheReadTokens: number;
  cacheCreation5m: number;
  cacheCreation1h: number;
  /** The entry read, refreshed by `read()`. */
  readKey?: string;
  readTtlMs: number;
  /** Entries written, readable after `commit()`. */
  writes: { key: string; ttlMs: number }[];
}

export const cacheCreationTokens = (plan: CachePlan) => plan.cacheCreation5m + plan.cacheCreation1h;

/** The plan of a prompt with no breakpoints: everything is plain input. */
export function uncachedPlan(inputTokens: number): CachePlan {
  return { inputTokens, cacheReadTokens: 0, cacheCreation5m: 0, cacheCreation1h: 0, readTtlMs: 0, writes: [] };
}

export class PromptCache {
  /** Key → epoch ms the entry expires. */
  private readonly entries = new Map<string, number>();
  private sweepAt = 1024;

  get size(): number {
    return this.entries.size;
  }

  /** What the request would read and write now; changes nothing (a refused request must not). */
  plan(model: string, layout: PromptLayout, now: number, settings: CacheSettings): CachePlan {
    const { breakpoints, tokens } = layout;
    if (breakpoints.length === 0) return uncachedPlan(Math.max(1, layout.total));
    const last = breakpoints[breakpoints.length - 1]!.block;
    const prefixTokens: number[] = new Array(last + 1);
    const keys: string[] = new Array(breakpoints.length);
    let hash = baseModel(model);
    let sum = 0;
    let next = 0;
    for (let i = 0; i <= last; i++) {
      sum += tokens[i]!;
      prefixTokens[i] = sum;
      hash = createHash('sha256').update(hash).update(layout.canonical(i)).digest('base64');
      if (breakpoints[next]!.block === i) keys[next++] = hash;
    }
    let readAt = -1;
    for (let b = breakpoints.length - 1; b >= 0; b--) {
      const expiresAt = this.entries.get(keys[b]!);
      if (expiresAt === undefined) continue;
      if (expiresAt > now) {
        readAt = b;
        break;
      }
      this.entries.delete(keys[b]!);
    }
    const scale = settings.ttlScale;
    const read = readAt >= 0 ? prefixTokens[breakpoints[readAt]!.block]! : 0;
    const plan: CachePlan = {
      inputTokens: 0,
      cacheReadTokens: read,
      cacheCreation5m: 0,
      cacheCreation1h: 0,
      readKey: readAt >= 0 ? keys[readAt] : undefined,
      readTtlMs: readAt >= 0 ? TTL_MS[breakpoints[readAt]!.ttl] * scale : 0,
      writes: [],
    };
    if (prefixTokens[last]! >= settings.minTokens && readAt < breakpoints.length - 1) {
      let from = read;
      for (let b = readAt + 1; b < breakpoints.length; b++) {
        const { block, ttl } = breakpoints[b]!;
        const upTo = prefixTokens[block]!;
        if (ttl === '1h') plan.cacheCreation1h += upTo - from;
        else plan.cacheCreation5m += upTo - from;
        from = upTo;
        if (upTo >= settings.minTokens) plan.writes.push({ key: keys[b]!, ttlMs: TTL_MS[ttl] * scale });
      }
    }
    plan.inputTokens = Math.max(0, layout.total - read - cacheCreationTokens(plan));
    return plan;
  }

  /** The request was admitted: the entry it reads is refreshed. */
  read(plan: CachePlan, now: number): void {
    if (plan.readKey === undefined) return;
    const expiresAt = this.entries.get(plan.readKey);
    if (expiresAt !== undefined) this.entries.set(plan.readKey, Math.max(expiresAt, now + plan.readTtlMs));
  }

  /** The request finished successfully: what it wrote becomes readable. */
  commit(plan: CachePlan, now: number): void {
    for (const { key, ttlMs } of plan.writes) this.entries.set(key, Math.max(this.entries.get(key) ?? 0, now + ttlMs));
    if (this.entries.size >= this.sweepAt) this.sweep(now);
  }

  /** Evicts everything, as if every entry expired now. */
  flush(): void {
    this.entries.clear();
  }

  private sweep(now: number): void {
    for (const [key, expiresAt] of this.entries) if (expiresAt <= now) this.entries.delete(key);
    this.sweepAt = Math.max(1024, this.entries.size * 2);
  }
}
