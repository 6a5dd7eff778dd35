/** The lane in front of one class's budget: the cold start, the window without headers, giving up. */
import { describe, expect, it } from 'vitest';
import { ClassBudget } from '../../src/limits/class-budget.js';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { cachePlan } from '../../src/limits/prompt-cache.js';
import { parseRateLimitHeaders } from '../../src/limits/rate-limit-headers.js';
import { MessageLane, type Turn } from '../../src/proxy/message-lane.js';

const MODEL = 'claude-haiku-4-5';
const plan = cachePlan({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] });

function lane(): MessageLane {
  return new MessageLane(new ClassBudget({ key: { account: 'a', modelClass: MODEL }, store: new MemoryStore(), given: {} }));
}

function ask(l: MessageLane, client = 'c', signal = new AbortController().signal) {
  const turns: Array<Turn | undefined> = [];
  const p = l.turn({ client, plan, maxTokens: 1024, signal }).then((t) => {
    turns.push(t);
    return t;
  });
  return { p, turns };
}

const tick = () => new Promise((r) => setTimeout(r, 20));
const limitHeaders = new Headers({ 'anthropic-ratelimit-requests-limit': '6000', 'anthropic-ratelimit-requests-remaining': '99' });

describe('MessageLane', () => {
  it('lets one request go alone until an answer reports the limits, then the budget paces the rest', async () => {
    const l = lane();
    const first = ask(l);
    const others = [ask(l), ask(l), ask(l)];
    const turn = (await first.p)!;
    await tick();
    expect(others.every((o) => o.turns.length === 0)).toBe(true);
    expect(l.queued).toBe(3);
    // The first request reserved max_tokens: nothing is known about this class's answers yet.
    expect(turn.cost).toMatchObject({ requests: 1, outputTokens: 1024 });

    await l.budget.observe(parseRateLimitHeaders(limitHeaders));
    l.answer({ limitsReported: true, ok: true, rateLimited: false });
    l.learn(turn, { input_tokens: 10, output_tokens: 20 });
    l.done(turn);
    const rest = await Promise.all(others.map((o) => o.p));
    expect(rest.every((t) => t !== undefined)).toBe(true);
    expect(l.inFlight).toBe(3);
    // From now on the output estimate is what answers produced, not max_tokens.
    expect(rest[0]!.cost.outputTokens).toBe(20);
  });

  it('keeps the cold start through a 529 or 5xx without headers', async () => {
    const l = lane();
    const first = (await ask(l).p)!;
    const second = ask(l);
    l.answer({ limitsReported: false, ok: false, rateLimited: false });
    await tick();
    expect(second.turns).toHaveLength(0);
    l.done(first);
    expect(await second.p).toBeDefined();
    expect(l.inFlight).toBe(1);
  });

  it('without rate-limit headers at all, lets a window go that grows with each success', async () => {
    const l = lane();
    const first = (await ask(l).p)!;
    const waiting = Array.from({ length: 10 }, () => ask(l));
    l.answer({ limitsReported: false, ok: true, rateLimited: false });
    l.done(first);
    await tick();
    expect(l.inFlight).toBe(5);
    expect(waiting.filter((w) => w.turns.length === 1)).toHaveLength(5);
  });

  it('drops a request whose signal aborts while it waits, without reserving for it', async () => {
    const l = lane();
    const first = (await ask(l).p)!;
    const abort = new AbortController();
    const gone = ask(l, 'other', abort.signal);
    abort.abort();
    expect(await gone.p).toBeUndefined();
    expect(l.queued).toBe(0);
    l.done(first);
    expect(l.inFlight).toBe(0);
  });
});
