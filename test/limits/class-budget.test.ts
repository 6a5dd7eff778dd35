import { describe, expect, it } from 'vitest';
import { ClassBudget, type ClassBudgetOptions } from '../../src/limits/class-budget.js';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { burstBackstop } from '../../src/realtime/class-lane.js';

const cost = (inputTokens = 0, outputTokens = 0) => ({ requests: 1, inputTokens, outputTokens });
const key = { account: 'acct', modelClass: 'claude-haiku-4-5' };

function budget(options: Partial<ClassBudgetOptions> & { now?: () => number } = {}): ClassBudget {
  const now = options.now ?? Date.now;
  return new ClassBudget({ key, store: new MemoryStore({ now }), given: {}, ...options, now });
}

/** Whether a reservation goes through without waiting. */
async function fitsNow(b: ClassBudget, c = cost()): Promise<boolean> {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 0);
  return b.reserve(c, controller.signal);
}

describe('ClassBudget: output tokens as the API counts them', () => {
  it('lets a request in while the output bucket is not in debt, takes its estimate, and settles to the real output', async () => {
    const now = 0;
    const b = budget({ given: { otpm: 600 }, capacitySeconds: 1, now: () => now });
    // 10 output tokens in the bucket: an estimate of 6 goes (4 left), and so does another (-2),
    // as the API admits whatever a request will write while its bucket is not in debt.
    expect(await fitsNow(b, cost(0, 6))).toBe(true);
    expect(await fitsNow(b, cost(0, 6))).toBe(true);
    expect(await fitsNow(b, cost(0, 1))).toBe(false);
    // the first answer had 2 tokens: 4 come back, out of debt again
    await b.settle(cost(0, 6), { outputTokens: 2 });
    expect(await fitsNow(b, cost(0, 6))).toBe(true);
  });

  it('with max_tokens 4096 reserved against a 90k OTPM bucket, still lets requests through one after another', async () => {
    let now = 0;
    const b = budget({ given: { otpm: 90_000 }, now: () => now }); // 1,500 a second
    expect(await fitsNow(b, cost(0, 4096))).toBe(true);
    // In debt by 4096 - 750 (half a second's worth): the next waits until it is paid off, about 2.2 s, not for ever.
    now = 2200;
    expect(await fitsNow(b, cost(0, 4096))).toBe(false);
    now = 2240;
    expect(await fitsNow(b, cost(0, 4096))).toBe(true);
  });

  it('holds every new request while the output bucket is in debt, even one estimated at a single token', async () => {
    let now = 0;
    const b = budget({ given: { otpm: 600 }, capacitySeconds: 1, now: () => now });
    expect(await fitsNow(b, cost(0, 1))).toBe(true);
    // the answer was far longer than estimated: 30 tokens, 20 past what the bucket holds
    await b.settle(cost(0, 1), { outputTokens: 30 });
    expect(await fitsNow(b, cost(0, 1))).toBe(false);
    now = 1900; // 19 tokens of refill: still in debt
    expect(await fitsNow(b, cost(0, 1))).toBe(false);
    now = 2000; // 20: out of debt, and the next request goes
    expect(await fitsNow(b, cost(0, 1))).toBe(true);
  });
});

describe('ClassBudget: limits', () => {
  it('adopts the lower limit the API reports, and never a higher one than given', async () => {
    const b = budget({ given: { rpm: 4800 } });
    await b.observe({ requests: { limit: 1200, remaining: 19, remainingAtMost: 19 } });
    expect(b.limits().rpm).toBe(1200);
    await b.observe({ requests: { limit: 9000, remaining: 100, remainingAtMost: 100 } });
    expect(b.limits().rpm).toBe(4800);
    expect(b.reportedLimits().rpm).toBe(9000);
  });

  it('learns limits it was not given, and starts from limits known before', async () => {
    const b = budget();
    expect(b.hasLimits).toBe(false);
    await b.observe({ inputTokens: { limit: 40_000, remaining: 0, remainingAtMost: 500 } });
    expect(b.limits().itpm).toBe(40_000);
    expect(budget({ known: { rpm: 1000 } }).limits().rpm).toBe(1000);
    expect(budget({ known: { rpm: 1000 }, given: { rpm: 300 } }).limits().rpm).toBe(300);
  });

  it('charges what was reserved before a limit was known once the first answer reports it, as the API counted it', async () => {
    const now = 0;
    const b = budget({ capacitySeconds: 1, now: () => now });
    const first = cost(600);
    expect(await fitsNow(b, first)).toBe(true); // no limit known yet: nothing to pace by
    // The first answer's headers: 60k ITPM (1,000 a second). The API has counted our 600.
    await b.observe({ inputTokens: { limit: 60_000, remaining: 0, remainingAtMost: 500 } });
    expect(await fitsNow(b, cost(500))).toBe(false);
    expect(await fitsNow(b, cost(400))).toBe(true);
    // Settling the first request (it used 600) changes nothing more: it was charged once.
    await b.settle(first, { inputTokens: 600 });
    expect(await fitsNow(b, cost(1))).toBe(false);
  });

  it('a take while the headers that taught a limit are still being written waits for them: no full bucket in between', async () => {
    const now = 0;
    // A store whose writes take a while, as a shared one's do.
    class SlowWrites extends MemoryStore {
      override async adjust(...args: Parameters<MemoryStore['adjust']>) {
        await new Promise((r) => setTimeout(r, 20));
        return super.adjust(...args);
      }
      override async clamp(...args: Parameters<MemoryStore['clamp']>) {
        await new Promise((r) => setTimeout(r, 20));
        return super.clamp(...args);
      }
    }
    const b = budget({ capacitySeconds: 1, now: () => now, store: new SlowWrites({ now: () => now }) });
    const first = cost(600);
    expect(await fitsNow(b, first)).toBe(true);
    // Not awaited: the next reservation comes while the store learns what the first one spent.
    const observed = b.observe({ inputTokens: { limit: 60_000, remaining: 0, remainingAtMost: 500 } });
    expect(await fitsNow(b, cost(500))).toBe(false);
    await observed;
    expect(await fitsNow(b, cost(400))).toBe(true);
  });

  it('does not stall on a token count rounded down to 0: it may be up to 500 short', async () => {
    const now = 0;
    const b = budget({ given: { itpm: 60_000 }, capacitySeconds: 1, now: () => now }); // 1,000 a second
    await b.observe({ inputTokens: { limit: 60_000, remaining: 0, remainingAtMost: 500 } });
    expect(await fitsNow(b, cost(400))).toBe(true);
  });

  it('reads how deep in debt the API is from the reset time, from its earliest possible value', async () => {
    const now = 10_000;
    const b = budget({ now: () => now });
    // 6 RPM: one request every 10 s. The API says full again at a whole second 9 s away: it may be
    // as early as 8 s away (second precision), so we wait at least 8 s, not 9.
    await b.observe({ requests: { limit: 6, remaining: 0, remainingAtMost: 0, resetAt: 19_000, resetNotBefore: 18_000 } });
    const snapshot = (await (b as unknown as { store: MemoryStore }).store.snapshot('acct'))[0]!;
    // full (0.1 of a request per second x 1 s) minus 8 s of refill
    expect(snapshot.levels.requests).toBeCloseTo(0.1 - 0.8, 5);
  });
});

describe('ClassBudget: 429s', () => {
  it('pauses every reservation for retry-after, and a second 429 from a request already in flight is the same pause', async () => {
    let now = 1_000_000;
    const b = budget({ given: { rpm: 6000 }, now: () => now });
    expect(await b.onRateLimited(3000, {})).toBe(true);
    expect(await b.onRateLimited(3000, {})).toBe(false);
    const controller = new AbortController();
    const pending = b.reserve(cost(), controller.signal);
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    expect(b.hold()?.heldBy).toBe('pause');
    now += 3000;
    expect(await pending).toBe(true);
  });

  it('a pause another process set holds this one too (the store is shared)', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    const a = new ClassBudget({ key, store, given: { rpm: 600 }, now: () => now });
    const other = new ClassBudget({ key, store, given: { rpm: 600 }, now: () => now });
    await other.onRateLimited(5000, {});
    expect(await fitsNow(a)).toBe(false);
    now = 5000;
    expect(await fitsNow(a)).toBe(true);
  });

  it('steps the pace down after a 429 and recovers it afterwards', async () => {
    let now = 0;
    const b = budget({ given: { rpm: 600 }, capacitySeconds: 1, recoveryMs: 10_000, now: () => now });
    for (let i = 0; i < 10; i++) expect(await fitsNow(b)).toBe(true); // the bucket is empty now
    await b.onRateLimited(1, {});
    // the limit in force stays the account's, but the bucket refills at 70% for a while:
    // 110 ms gives 1.1 requests at the full pace, 0.77 at the stepped-down one
    expect(b.limits().rpm).toBe(600);
    now = 110;
    expect(await fitsNow(b)).toBe(false);
    now = 20_000;
    for (let i = 0; i < 10; i++) await fitsNow(b);
    now += 110;
    expect(await fitsNow(b)).toBe(true);
  });

  it('stops when a wait would exceed queue_timeout_ms under queue_overflow fail', async () => {
    const b = budget({ given: { rpm: 60 }, capacitySeconds: 1, maxWaitMs: 100 });
    await b.reserve(cost());
    await expect(b.reserve(cost())).rejects.toThrow(/queue_timeout_ms/);
  });
});

describe('ClassBudget: costs larger than the bucket', () => {
  it('under 50 RPM (less than one request a second) waits until the API’s bucket is full again', async () => {
    let now = 0;
    const b = budget({ given: { rpm: 50 }, now: () => now });
    expect(await b.reserve(cost())).toBe(true);
    // 60/50 = 1.2 s of refill, and the tenth of a second of slack at 50 RPM.
    now = 1250;
    expect(await fitsNow(b)).toBe(false);
    now = 1300;
    expect(await fitsNow(b)).toBe(true);
  });

  it('spaces requests 60/rpm seconds apart plus a tenth of a second, so jitter on the way cannot make one arrive early', async () => {
    let now = 0;
    const b = budget({ given: { rpm: 50 }, now: () => now });
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      while (!(await fitsNow(b))) now += 10;
      starts.push(now);
    }
    const gaps = starts.slice(2).map((t, i) => t - starts[i + 1]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1300);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(1320);
  });
});

describe('the p-queue backstop', () => {
  it('allows more starts per second than the budget ever lets out, so it never slows a run', () => {
    for (const rpm of [1, 50, 600, 4000]) {
      const { interval, intervalCap } = burstBackstop(rpm);
      const budgetMax = (rpm / 60) * 0.5 + (rpm / 60) * (interval / 1000); // bucket + one interval of refill
      expect(intervalCap).toBeGreaterThanOrEqual(Math.ceil(budgetMax));
      expect(intervalCap).toBeLessThanOrEqual(Math.max(2, Math.ceil((2 * rpm) / 60)));
    }
  });
});
