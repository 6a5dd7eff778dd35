import { describe, expect, it } from 'vitest';
import { cachePlan, PromptCacheTracker } from '../../src/limits/prompt-cache.js';

const shared = 'S'.repeat(8000);
const item = (i: number, extra: Record<string, unknown> = {}) => ({
  model: 'claude-haiku-4-5',
  system: [{ type: 'text', text: shared, cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: `ticket ${i}` }],
  ...extra,
});

describe('cachePlan', () => {
  it('finds the breakpoints and the size of the prefix each caches', () => {
    const plan = cachePlan(item(1));
    expect(plan.breakpoints).toHaveLength(1);
    expect(plan.breakpoints[0]!.chars).toBe(8000);
    expect(plan.totalChars).toBe(8000 + 'ticket 1'.length);
    // the same prefix in another item hashes the same; a different model does not
    expect(cachePlan(item(2)).breakpoints[0]!.hash).toBe(plan.breakpoints[0]!.hash);
    expect(cachePlan({ ...item(2), model: 'claude-sonnet-4-5' }).breakpoints[0]!.hash).not.toBe(plan.breakpoints[0]!.hash);
    expect(cachePlan(item(1, { system: 'plain' })).breakpoints).toHaveLength(0);
  });

  it('counts a top-level cache_control (automatic caching) as a breakpoint at the last block', () => {
    const plan = cachePlan({ model: 'claude-haiku-4-5', cache_control: { type: 'ephemeral', ttl: '1h' }, messages: [{ role: 'user', content: 'x'.repeat(100) }] });
    expect(plan.breakpoints).toEqual([expect.objectContaining({ chars: 100, ttlMs: 3_600_000 })]);
  });
  it('sizes a request that sets no cache_control as the one that does (tools, system blocks, message blocks)', () => {
    const tools = [{ name: 'label', description: 'd', input_schema: { type: 'object' } }];
    const cached = {
      model: 'claude-haiku-4-5',
      tools,
      system: [{ type: 'text', text: shared, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'ticket' }, { type: 'image', source: { type: 'url', url: 'u' } }] }, { role: 'assistant', content: 'ok' }],
    };
    const plain = { ...cached, system: [{ type: 'text', text: shared }] };
    expect(cachePlan(plain).breakpoints).toEqual([]);
    expect(cachePlan(plain).totalChars).toBe(cachePlan(cached).totalChars);
    expect(cachePlan({ ...plain, system: shared }).totalChars).toBe(cachePlan(cached).totalChars);
  });
});

describe('PromptCacheTracker', () => {
  it('lets one request write a shared prefix while the others wait, then they read it', async () => {
    let now = 0;
    const tracker = new PromptCacheTracker({ now: () => now });
    const first = tracker.admit(cachePlan(item(1)));
    expect(first).toMatchObject({ go: true, uncachedChars: 8000 + 8 });
    const second = tracker.admit(cachePlan(item(2)));
    expect(second.go).toBe(false);
    let woke = false;
    if (!second.go) void second.ready.then(() => (woke = true));
    now = 2000;
    tracker.onAnswer(cachePlan(item(1)), 0, { cache_creation_input_tokens: 2000 }, first.go ? first.write : undefined);
    await Promise.resolve();
    expect(woke).toBe(true);
    expect(tracker.admit(cachePlan(item(2)))).toMatchObject({ go: true, uncachedChars: 8 });
  });

  it('a failed writer hands the write to the next request', () => {
    const tracker = new PromptCacheTracker();
    const first = tracker.admit(cachePlan(item(1)));
    if (first.go) tracker.onFailure(first.write);
    expect(tracker.admit(cachePlan(item(2)))).toMatchObject({ go: true, uncachedChars: 8000 + 8 });
  });

  it('expires a prefix before its TTL runs out, and every read refreshes it', () => {
    let now = 0;
    const tracker = new PromptCacheTracker({ now: () => now });
    const plan = cachePlan(item(1));
    const w = tracker.admit(plan);
    tracker.onAnswer(plan, 0, { cache_creation_input_tokens: 2000 }, w.go ? w.write : undefined);
    now = 4 * 60_000;
    expect(tracker.admit(plan)).toMatchObject({ uncachedChars: 8 });
    tracker.onAnswer(plan, now, { cache_read_input_tokens: 2000 });
    now = 8 * 60_000; // 4 min after the read: still warm
    expect(tracker.admit(plan)).toMatchObject({ uncachedChars: 8 });
    now = 13 * 60_000; // 9 min after the last read: expired, this request writes again
    expect(tracker.admit(plan)).toMatchObject({ go: true, uncachedChars: 8008, write: expect.anything() });
  });

  it('a prefix too short to cache costs its full size and makes nobody wait', () => {
    const tracker = new PromptCacheTracker();
    const plan = cachePlan(item(1));
    const w = tracker.admit(plan);
    tracker.onAnswer(plan, 0, { cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }, w.go ? w.write : undefined);
    expect(tracker.admit(plan)).toMatchObject({ go: true, uncachedChars: 8008 });
    expect(tracker.admit(plan).go).toBe(true);
  });

  it('after a suspected eviction, only a request sent afterwards confirms the prefix again', () => {
    let now = 0;
    const tracker = new PromptCacheTracker({ now: () => now });
    const plan = cachePlan(item(1));
    const w = tracker.admit(plan);
    tracker.onAnswer(plan, 0, { cache_creation_input_tokens: 2000 }, w.go ? w.write : undefined);
    now = 1000;
    tracker.suspectEviction();
    // a read from a request sent before the suspicion proves nothing
    tracker.onAnswer(plan, 500, { cache_read_input_tokens: 2000 });
    const again = tracker.admit(plan);
    expect(again).toMatchObject({ go: true, uncachedChars: 8008, write: expect.anything() });
  });
});
