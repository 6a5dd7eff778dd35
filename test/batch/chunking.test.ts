import { describe, expect, it } from 'vitest';
import { chunkBody, chunkItems, chunkLimitsFromEnv, type Chunk } from '../../src/batch/chunking.js';
import { InputError } from '../../src/errors.js';
import type { Item } from '../../src/types.js';

async function* items(n: number, text = (i: number) => `prompt ${i}`): AsyncGenerator<Item> {
  for (let i = 0; i < n; i++) {
    yield {
      custom_id: `c${i}`,
      params: { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: text(i) }] },
      source: { file: 'in.jsonl', line: i + 1 },
    };
  }
}

async function collect(gen: AsyncIterable<Chunk>) {
  const out: { ids: string[]; bytes: number; body: number }[] = [];
  for await (const c of gen) out.push({ ids: [...c.ids], bytes: c.bytes, body: chunkBody(c).length });
  return out;
}

describe('chunkItems', () => {
  it('cuts at maxRequests', async () => {
    const chunks = await collect(chunkItems(items(25), { maxRequests: 10, maxBytes: 1e9 }));
    expect(chunks.map((c) => c.ids.length)).toEqual([10, 10, 5]);
    expect(chunks.flatMap((c) => c.ids)).toEqual(Array.from({ length: 25 }, (_, i) => `c${i}`));
  });

  it('measures the serialized body exactly and never goes over maxBytes', async () => {
    const maxBytes = 2_000;
    const chunks = await collect(chunkItems(items(100), { maxRequests: 1e5, maxBytes }));
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) {
      expect(c.bytes).toBe(c.body);
      expect(c.body).toBeLessThanOrEqual(maxBytes);
    }
    const first = (await chunkItems(items(2), { maxRequests: 9, maxBytes }).next()).value as Chunk;
    expect(JSON.parse(chunkBody(first).toString()).requests.map((r: { custom_id: string }) => r.custom_id)).toEqual(['c0', 'c1']);
  });

  it('leaves out what `include` rejects, and makes the same chunks for the same input', async () => {
    const include = (id: string) => Number(id.slice(1)) % 3 === 0;
    const a = await collect(chunkItems(items(30), { maxRequests: 4, maxBytes: 1e9 }, include));
    const b = await collect(chunkItems(items(30), { maxRequests: 4, maxBytes: 1e9 }, include));
    expect(a).toEqual(b);
    expect(a.flatMap((c) => c.ids)).toEqual(['c0', 'c3', 'c6', 'c9', 'c12', 'c15', 'c18', 'c21', 'c24', 'c27']);
  });

  it('names the line of a request too big for any batch', async () => {
    const gen = chunkItems(items(3, (i) => (i === 1 ? 'x'.repeat(5000) : 'short')), { maxRequests: 10, maxBytes: 1000 });
    const err = await collect(gen).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^in\.jsonl:2: the request for c1 is \d+ bytes serialized, over the 1000-byte limit/);
  });

  it('takes lower limits from the environment, never higher ones than the API allows', () => {
    expect(chunkLimitsFromEnv({})).toEqual({ maxRequests: 100_000, maxBytes: 240_000_000 });
    expect(chunkLimitsFromEnv({ CLAW_BATCH_MAX_BATCH_REQUESTS: '10' }).maxRequests).toBe(10);
    expect(chunkLimitsFromEnv({ CLAW_BATCH_MAX_BATCH_REQUESTS: '500000' }).maxRequests).toBe(100_000);
    expect(() => chunkLimitsFromEnv({ CLAW_BATCH_MAX_BATCH_BYTES: 'lots' })).toThrow(/CLAW_BATCH_MAX_BATCH_BYTES/);
  });
});
