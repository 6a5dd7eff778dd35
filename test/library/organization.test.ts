/**
 * Who shares the limit through wrapped clients (public entry only, SDK over HTTP to the
 * simulator): two keys of one organization share its limit, on the local store and on Redis; the
 * Message Batches endpoints are paced by their own limit and never spend the Messages one.
 */
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, wrapClient, type Simulator, type SimulatorCounters, type WrapClientOptions } from 'claw-batch';
import { removeDir, tempDir } from '../helpers/cli.js';
import { useRedisServer } from '../helpers/redis-server.js';

const RPM = 1200;
const KEYS = ['org-key-a', 'org-key-b'];

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 150, jitterMs: 50, organizations: [{ id: 'org-library', keys: KEYS, rpm: RPM }] });
});
afterAll(() => sim.close());
const redis = useRedisServer();

/** Requests per minute at the simulator, after the opening burst its full bucket lets through. */
function arrivalRate(c: SimulatorCounters, bucket = RPM / 60): number {
  return (c.requests - bucket) / ((c.lastRequestAt! - c.firstRequestAt!) / 60_000);
}

/** Ten agent loops on each key's wrapped client, eight turns each. */
async function twoKeys(options: (dir: string) => WrapClientOptions): Promise<SimulatorCounters> {
  const dir = tempDir();
  sim.resetCounters();
  const clients = KEYS.map((key, k) => wrapClient(new Anthropic({ apiKey: key, baseURL: sim.url }), { ...options(dir), name: `agent-${k}` }));
  try {
    await Promise.all(
      clients.flatMap((client, k) =>
        Array.from({ length: 10 }, async (_, a) => {
          for (let turn = 0; turn < 8; turn++) {
            const m = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: `key ${k} agent ${a} turn ${turn}` }] });
            expect(m.type).toBe('message');
          }
        }),
      ),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    removeDir(dir);
  }
  const c = sim.counters();
  const rate = arrivalRate(c);
  console.log(`two keys of one organization: ${c.requests} requests, ${c.rateLimited} 429s, ${Math.round(rate)} rpm (${(rate / RPM).toFixed(2)} of ${RPM})`);
  return c;
}

describe("two keys of one organization through wrapped clients share the organization's limit", () => {
  for (const [store, options] of [
    ['the local store', (dir: string): WrapClientOptions => ({ sharedLimits: 'local', stateDir: join(dir, 'state') })],
    ['Redis', (dir: string): WrapClientOptions => ({ sharedLimits: redis.server.url, stateDir: join(dir, 'state') })],
  ] as const) {
    it(`on ${store}: together at the limit, not twice it, with few 429s`, async () => {
      const c = await twoKeys(options);
      expect(c.succeeded).toBe(160);
      // The keys' first requests go before an answer names their organization: a few 429s at most.
      expect(c.rateLimited).toBeLessThanOrEqual(6);
      const rate = arrivalRate(c);
      expect(rate).toBeLessThanOrEqual(RPM * 1.05);
      expect(rate).toBeGreaterThanOrEqual(RPM * 0.8);
    });
  }
});

describe('messages.batches through wrapped clients', () => {
  it("passes create, retrieve, list, results and cancel through, paced by the batch endpoints' own limit, not the Messages one", async () => {
    sim.setOptions({ batchRpm: 120, batchMs: 200 });
    sim.resetCounters();
    const dir = tempDir();
    const clients = KEYS.map((key) => wrapClient(new Anthropic({ apiKey: key, baseURL: sim.url }), { sharedLimits: 'local', stateDir: join(dir, 'state') }));
    try {
      const request = (id: string) => ({ custom_id: id, params: { model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: `batch ${id}` }] } });
      const batch = await clients[0]!.messages.batches.create({ requests: [request('a'), request('b')] });
      expect(batch.id).toMatch(/^msgbatch_/);
      // The second key's first answer names its organization (before it, the key is paced alone:
      // the gap the Messages lanes have too). Then eight calls at once from both keys: 2 a second
      // together, taught by the answers' headers, with no 429.
      await clients[1]!.messages.batches.retrieve(batch.id);
      const seen = await Promise.all(Array.from({ length: 8 }, (_, i) => clients[i % 2]!.messages.batches.retrieve(batch.id)));
      expect(seen.every((b) => b.id === batch.id)).toBe(true);
      let ended = seen[0]!;
      while (ended.processing_status !== 'ended') ended = await clients[1]!.messages.batches.retrieve(batch.id);
      const ids: string[] = [];
      for await (const r of await clients[1]!.messages.batches.results(batch.id)) ids.push(r.custom_id);
      expect(ids.sort()).toEqual(['a', 'b']);
      const listed: string[] = [];
      for await (const b of clients[0]!.messages.batches.list({ limit: 1 })) listed.push(b.id);
      expect(listed).toContain(batch.id);
      const other = await clients[0]!.messages.batches.create({ requests: [request('c')] });
      expect((await clients[0]!.messages.batches.cancel(other.id)).id).toBe(other.id);

      const c = sim.counters();
      console.log(`batch endpoints: ${c.batchRequests} calls, ${c.batchRateLimited} 429s; Messages requests: ${c.requests}`);
      expect(c.batchRateLimited).toBeLessThanOrEqual(1);
      // Not one Messages request (nor its budget) was spent on them.
      expect(c.requests).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      sim.setOptions({ batchRpm: undefined, batchMs: undefined });
      removeDir(dir);
    }
  });
});
