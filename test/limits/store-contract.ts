/**
 * The one contract every LimitStore keeps, run against each store by a one-line test file
 * (memory-store.test.ts, sqlite-store.test.ts, redis-store.test.ts), like Level/abstract-level's
 * shared suite. Stores with an injectable clock run it on a fake one (exact figures); Redis keeps
 * time on its own server, so there the figures may be off by the real time between two calls
 * (`slackMs`), always in the direction of more time having passed.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LimitStore, PeerInfo } from '../../src/limits/limit-store.js';
import type { BudgetKey, BudgetSpec, Cost } from '../../src/limits/types.js';

export interface ContractFixture {
  /** A store on fresh shared state. */
  create(): Promise<LimitStore>;
  /** Another store on the same shared state as the last `create()`; absent for a store that shares nothing. */
  sibling?(): Promise<LimitStore>;
  /** Lets `ms` pass: moves a fake clock, or sleeps. */
  advance(ms: number): Promise<void>;
  /** Sets the clock back by `ms` (fake clocks only). */
  stepBack?(ms: number): void;
  /** Real ms that may pass between two calls; 0 with a fake clock. */
  slackMs: number;
}

/**
 * 10 requests/s, our bucket half a second (5), the API's a second (10); 100 tokens/s each way, our
 * bucket 50, the API's 100. A fresh bucket is full: 10 requests, 100 tokens, of which a cost up to
 * our capacity can use 5 and 50.
 */
export const SPEC: BudgetSpec = {
  requests: { perMinute: 600, capacitySeconds: 0.5, fullSeconds: 1 },
  inputTokens: { perMinute: 6000, capacitySeconds: 0.5, fullSeconds: 1 },
  outputTokens: { perMinute: 6000, capacitySeconds: 0.5, fullSeconds: 1 },
};

const cost = (requests: number, inputTokens = 0, outputTokens = 0): Cost => ({ requests, inputTokens, outputTokens });

export function storeContract(name: string, fixture: ContractFixture): void {
  describe(`LimitStore contract: ${name}`, () => {
    let store: LimitStore;
    const opened: LimitStore[] = [];
    let key: BudgetKey;
    const slack = fixture.slackMs;

    /** A wait that is exactly `ms` on a fake clock, up to `slack` less on a real one. */
    const expectWait = (actual: number, ms: number) => {
      expect(actual).toBeLessThanOrEqual(ms + (slack ? 1 : 0));
      expect(actual).toBeGreaterThanOrEqual(ms - slack);
    };
    /** A level that is exactly `level` on a fake clock, up to `slack` ms of refill more on a real one. */
    const expectLevel = (actual: number | undefined, level: number, perMs: number) => {
      expect(actual).toBeDefined();
      expect(actual!).toBeGreaterThanOrEqual(level - 1e-9);
      expect(actual!).toBeLessThanOrEqual(level + slack * perMs + 1e-9);
    };

    beforeEach(async () => {
      store = await fixture.create();
      opened.push(store);
      key = { account: `acct-${randomBytes(4).toString('hex')}`, modelClass: 'claude-haiku-4-5' };
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    describe('take', () => {
      it('takes a cost up to our capacity from a fresh bucket, then waits exactly the refill time', async () => {
        expect(await store.take(key, cost(5), SPEC)).toEqual({ ok: true, waitMs: 0 });
        const held = await store.take(key, cost(1), SPEC);
        expect(held.ok).toBe(false);
        expect(held.heldBy).toBe('requests');
        expectWait(held.waitMs, 100); // 1 request at 10/s
        const three = await store.take(key, cost(3), SPEC);
        expectWait(three.waitMs, 300);
      });

      it('takes from every dimension or from none: the slowest dimension decides the wait', async () => {
        expect((await store.take(key, cost(1, 50), SPEC)).ok).toBe(true);
        const held = await store.take(key, cost(1, 20), SPEC);
        expect(held).toMatchObject({ ok: false, heldBy: 'inputTokens' });
        expectWait(held.waitMs, 200); // 20 tokens at 100/s
        // The request it could have paid was not taken: 4 requests remain.
        expect((await store.take(key, cost(4), SPEC)).ok).toBe(true);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(false);
      });

      it('lets a cost above our capacity through only when the level is as full as the API bucket, then leaves debt', async () => {
        // 80 tokens > our capacity (50): a fresh bucket is full (100), so it goes, leaving 20.
        expect((await store.take(key, cost(0, 80), SPEC)).ok).toBe(true);
        expect((await store.take(key, cost(0, 10), SPEC)).ok).toBe(true); // 10 left
        const big = await store.take(key, cost(0, 80), SPEC);
        expect(big).toMatchObject({ ok: false, heldBy: 'inputTokens' });
        expectWait(big.waitMs, 900); // from 10 up to the full 100 at 100/s
        // More than a whole API bucket: a full bucket lets it through and is left in debt, with a
        // tenth of a second's worth more so the next one reaches the API with room to spare.
        const opus = { ...key, modelClass: 'claude-opus-4' };
        expect((await store.take(opus, cost(0, 150), SPEC)).ok).toBe(true);
        expectWait((await store.take(opus, cost(0, 1), SPEC)).waitMs, 610); // from -60 back up to 1
        // A cost of exactly a full bucket (one request under a limit below 80 RPM) too.
        const sonnet = { ...key, modelClass: 'claude-sonnet-4' };
        expect((await store.take(sonnet, cost(0, 100), SPEC)).ok).toBe(true);
        expectWait((await store.take(sonnet, cost(0, 100), SPEC)).waitMs, 1100); // from -10 up to the full 100
      });

      it('holds even a request that costs nothing of a dimension while that dimension is in debt', async () => {
        // A charge comes off the whole (full) level: 100 - 300 = -200, 2 s of debt at 100/s.
        await store.adjust(key, { outputTokens: -300 }, SPEC);
        const held = await store.take(key, cost(1, 0, 0), SPEC);
        expect(held).toMatchObject({ ok: false, heldBy: 'outputTokens' });
        expectWait(held.waitMs, 2000);
      });

      it('a debtOnly dimension (output tokens) admits while not in debt, then takes the whole cost', async () => {
        const spec: BudgetSpec = { ...SPEC, outputTokens: { ...SPEC.outputTokens!, debtOnly: true } };
        // A fresh bucket (50 of our capacity): 80 goes at once, leaving -30; then nothing until
        // the debt is paid off, whatever the next request costs.
        expect((await store.take(key, cost(0, 0, 80), spec)).ok).toBe(true);
        const held = await store.take(key, cost(0, 0, 1), spec);
        expect(held).toMatchObject({ ok: false, heldBy: 'outputTokens' });
        expectWait(held.waitMs, 300); // -30 back up to 0 at 100/s
      });

      it('does not limit a dimension that has no spec', async () => {
        const spec: BudgetSpec = { requests: SPEC.requests };
        expect((await store.take(key, cost(1, 1_000_000, 1_000_000), spec)).ok).toBe(true);
      });

      it('refills with time, never above the full bucket', async () => {
        await store.take(key, cost(5), SPEC);
        await fixture.advance(200);
        expect((await store.take(key, cost(2), SPEC)).ok).toBe(true);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(false);
      });
    });

    describe('adjust', () => {
      it('gives back, never above our capacity', async () => {
        await store.take(key, cost(5), SPEC);
        await store.adjust(key, { requests: 100 }, SPEC);
        const [snap] = await store.snapshot(key.account);
        expectLevel(snap!.levels.requests, 5, 0.01);
        expect((await store.take(key, cost(5), SPEC)).ok).toBe(true);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(false);
      });

      it('charges into debt, and the debt holds the next take', async () => {
        await store.take(key, cost(1, 0, 10), SPEC);
        await store.adjust(key, { outputTokens: -90 }, SPEC); // 40 - 90 = -50
        const held = await store.take(key, cost(1, 0, 1), SPEC);
        expect(held.heldBy).toBe('outputTokens');
        expectWait(held.waitMs, 510);
      });
    });

    describe('clamp', () => {
      it('lowers a level to what the API says remains', async () => {
        await store.clamp(key, { requests: 2 }, SPEC);
        expect((await store.take(key, cost(2), SPEC)).ok).toBe(true);
        expectWait((await store.take(key, cost(1), SPEC)).waitMs, 100);
      });

      it('never raises a level', async () => {
        await store.take(key, cost(4), SPEC); // 1 left
        await store.clamp(key, { requests: 8, inputTokens: Number.NaN }, SPEC);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(true);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(false);
      });
    });

    describe('pause', () => {
      it('holds every take for the pause; the longer pause wins; newPause only for the first', async () => {
        const first = await store.pause(key, 150);
        expect(first.newPause).toBe(true);
        expectWait(first.remainingMs, 150);
        const second = await store.pause(key, 50);
        expect(second.newPause).toBe(false);
        expectWait(second.remainingMs, 150);
        const held = await store.take(key, cost(1), SPEC);
        expect(held).toMatchObject({ ok: false, heldBy: 'pause' });
        expectWait(held.waitMs, 150);
        const longer = await store.pause(key, 300);
        expect(longer.newPause).toBe(false);
        expectWait(longer.remainingMs, 300);
        await fixture.advance(320);
        expect((await store.take(key, cost(1), SPEC)).ok).toBe(true);
        expect((await store.pause(key, 10)).newPause).toBe(true);
      });

      it('pauses one model class only', async () => {
        await store.pause(key, 1000);
        expect((await store.take({ ...key, modelClass: 'claude-opus-4' }, cost(1), SPEC)).ok).toBe(true);
      });
    });

    describe('learned limits', () => {
      it('merges: a reported dimension replaces the old value, the others stay', async () => {
        expect(await store.getLearned(key)).toEqual({});
        await store.setLearned(key, { rpm: 50 });
        await store.setLearned(key, { itpm: 40_000 });
        expect(await store.getLearned(key)).toEqual({ rpm: 50, itpm: 40_000 });
        await store.setLearned(key, { rpm: 60, otpm: 8000 });
        expect(await store.getLearned(key)).toEqual({ rpm: 60, itpm: 40_000, otpm: 8000 });
        expect(await store.getLearned({ ...key, modelClass: 'claude-opus-4' })).toEqual({});
      });
    });

    describe('peers', () => {
      const peer = (n: number): PeerInfo => ({ id: `host-${n}:${1000 + n}:abc`, host: `host-${n}`, pid: 1000 + n, command: 'run', modelClasses: ['claude-haiku-4-5'] });

      it('counts and lists the processes that heartbeat; leave removes one', async () => {
        expect(await store.heartbeat(key.account, peer(1), 10_000)).toBe(1);
        expect(await store.heartbeat(key.account, peer(2), 10_000)).toBe(2);
        expect(await store.heartbeat(key.account, peer(1), 10_000)).toBe(2);
        const seen = await store.peers(key.account, 10_000);
        expect(seen.map((p) => p.id).sort()).toEqual([peer(1).id, peer(2).id]);
        const one = seen.find((p) => p.id === peer(1).id)!;
        expect(one).toMatchObject({ host: 'host-1', pid: 1001, command: 'run', modelClasses: ['claude-haiku-4-5'] });
        expect(one.lastSeenMsAgo).toBeGreaterThanOrEqual(0);
        await store.leave(key.account, peer(1).id);
        expect((await store.peers(key.account, 10_000)).map((p) => p.id)).toEqual([peer(2).id]);
      });

      it('ages out a process that stopped heartbeating (a dead one leaves nothing behind)', async () => {
        await store.heartbeat(key.account, peer(1), 100);
        await fixture.advance(150);
        expect(await store.heartbeat(key.account, peer(2), 100)).toBe(1);
        const seen = await store.peers(key.account, 100);
        expect(seen.map((p) => p.id)).toEqual([peer(2).id]);
        expect((await store.peers(key.account, 10_000)).length).toBe(2);
      });

      it('keeps the peers of two accounts apart', async () => {
        await store.heartbeat(key.account, peer(1), 10_000);
        expect(await store.peers(`${key.account}-other`, 10_000)).toEqual([]);
      });
    });

    describe('snapshot', () => {
      it("shows each model class of the account: levels, spec, pause and learned limits", async () => {
        const opus = { ...key, modelClass: 'claude-opus-4' };
        await store.take(key, cost(2, 30), SPEC);
        await store.setLearned(key, { rpm: 600 });
        await store.take(opus, cost(1), { requests: SPEC.requests });
        await store.pause(opus, 5000);
        await store.take({ ...key, account: `${key.account}-other` }, cost(1), SPEC);
        const snaps = (await store.snapshot(key.account)).sort((a, b) => a.modelClass.localeCompare(b.modelClass));
        expect(snaps.map((s) => s.modelClass)).toEqual(['claude-haiku-4-5', 'claude-opus-4']);
        const [haiku, o] = snaps as [(typeof snaps)[0], (typeof snaps)[0]];
        expect(haiku.spec).toEqual(SPEC);
        expectLevel(haiku.levels.requests, 3, 0.01);
        expectLevel(haiku.levels.inputTokens, 20, 0.1);
        expectLevel(haiku.levels.outputTokens, 50, 0); // capped at our capacity
        expect(haiku.pausedForMs).toBe(0);
        expect(haiku.learned).toEqual({ rpm: 600 });
        expect(o.spec).toEqual({ requests: SPEC.requests });
        expect(Object.keys(o.levels)).toEqual(['requests']);
        expectWait(o.pausedForMs, 5000);
      });

      it('is empty for an account the store has not seen', async () => {
        expect(await store.snapshot('never-seen')).toEqual([]);
      });
    });

    it('never shares between two accounts', async () => {
      const other = { ...key, account: `${key.account}-2` };
      expect((await store.take(key, cost(5), SPEC)).ok).toBe(true);
      expect((await store.take(key, cost(1), SPEC)).ok).toBe(false);
      expect((await store.take(other, cost(5), SPEC)).ok).toBe(true);
    });

    it.skipIf(!fixture.stepBack)('counts a clock that steps back as no time passed', async () => {
      await store.take(key, cost(5), SPEC);
      fixture.stepBack!(10_000);
      const held = await store.take(key, cost(1), SPEC);
      expect(held.waitMs).toBe(100);
      await fixture.advance(5_000); // still behind the last time seen: nothing refills
      expect((await store.take(key, cost(1), SPEC)).waitMs).toBe(100);
      await fixture.advance(5_100);
      expect((await store.take(key, cost(1), SPEC)).ok).toBe(true);
    });

    it('links a key to its organization, lists the keys of an account, and moves a key that is linked again', async () => {
      const org = `org-${randomBytes(4).toString('hex')}`;
      const ws = `${org}.ws`;
      const [k1, k2, k3] = ['a', 'b', 'c'].map((c) => `${c}${randomBytes(6).toString('hex')}`);
      expect(await store.linkOf(k1!)).toBeUndefined();
      await store.linkKey(k1!, { account: org, organization: 'org-id' });
      await store.linkKey(k2!, { account: ws, parent: org, organization: 'org-id', workspace: 'wrkspc_1' });
      expect(await store.linkOf(k1!)).toEqual({ account: org, organization: 'org-id' });
      expect((await store.keysOf(org)).map((k) => k.keyId)).toEqual([k1, k2].sort());
      expect(await store.keysOf(ws)).toEqual([{ keyId: k2, account: ws, parent: org, organization: 'org-id', workspace: 'wrkspc_1' }]);
      const elsewhere = `${org}-2`;
      await store.linkKey(k3!, { account: elsewhere, organization: 'other' });
      await store.linkKey(k1!, { account: elsewhere, organization: 'other' });
      expect((await store.keysOf(org)).map((k) => k.keyId)).toEqual([k2]);
      expect((await store.keysOf(elsewhere)).map((k) => k.keyId)).toEqual([k1, k3].sort());
    });

    describe.skipIf(!fixture.sibling)('sharing', () => {
      it("sees the other instance's takes, pauses, learned limits and peers", async () => {
        const other = await fixture.sibling!();
        opened.push(other);
        expect((await store.take(key, cost(5), SPEC)).ok).toBe(true);
        const held = await other.take(key, cost(1), SPEC);
        expect(held.ok).toBe(false);
        expectWait(held.waitMs, 100);
        await other.pause(key, 1000);
        expect((await store.take(key, cost(0), SPEC)).heldBy).toBe('pause');
        await store.setLearned(key, { otpm: 8000 });
        expect(await other.getLearned(key)).toEqual({ otpm: 8000 });
        await store.heartbeat(key.account, { id: 'a', host: 'h', pid: 1, command: 'run', modelClasses: [] }, 10_000);
        expect(await other.heartbeat(key.account, { id: 'b', host: 'h', pid: 2, command: 'run', modelClasses: [] }, 10_000)).toBe(2);
        expect((await other.snapshot(key.account)).map((s) => s.modelClass)).toEqual(['claude-haiku-4-5']);
        await store.linkKey('key-seen-by-one', { account: key.account, organization: 'org-1' });
        expect(await other.linkOf('key-seen-by-one')).toEqual({ account: key.account, organization: 'org-1' });
      });

      it('lets many concurrent takes from two instances spend the bucket exactly once', async () => {
        const other = await fixture.sibling!();
        opened.push(other);
        const spec: BudgetSpec = { requests: { perMinute: 60, capacitySeconds: 20, fullSeconds: 20 } }; // 20, refills 1/s
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? store : other).take(key, cost(1), spec)));
        expect(results.filter((r) => r.ok).length).toBe(20);
      });
    });
  });
}
