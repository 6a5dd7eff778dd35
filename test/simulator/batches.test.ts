/** Message Batches: create, retrieve, results, list pagination, cancel, delete, limits. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { simulatedMessage, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MODEL, params, rejection, sdk, sleep } from './sim-client.js';

type Batch = Anthropic.Messages.MessageBatch;
type BatchRequest = Anthropic.Messages.BatchCreateParams.Request;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function waitUntilEnded(client: Anthropic, id: string): Promise<Batch> {
  for (let i = 0; i < 200; i++) {
    const batch = await client.messages.batches.retrieve(id);
    if (batch.processing_status === 'ended') return batch;
    await sleep(25);
  }
  throw new Error(`batch ${id} did not end`);
}

async function results(client: Anthropic, id: string): Promise<Anthropic.Messages.MessageBatchIndividualResponse[]> {
  const out = [];
  for await (const line of await client.messages.batches.results(id)) out.push(line);
  return out;
}

const requests = (n: number, prefix = 'item'): BatchRequest[] =>
  Array.from({ length: n }, (_, i) => ({ custom_id: `${prefix}-${i}`, params: params(`${prefix} number ${i}`) }));

describe('message batches', () => {
  it('runs a batch from create to results, each custom_id once, bad params errored', async () => {
    sim = await startSimulator({ batchMs: 3_600_000 });
    const client = sdk(sim);
    const bad: BatchRequest[] = [
      { custom_id: 'no-max-tokens', params: { model: MODEL, messages: [{ role: 'user', content: 'x' }] } as never },
      { custom_id: 'unknown-model', params: { ...params('x'), model: 'not-a-model' } },
    ];
    const created = await client.messages.batches.create({ requests: [...requests(6), ...bad] });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^msgbatch_/),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: 8, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      cancel_initiated_at: null,
      archived_at: null,
      results_url: null,
    });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 60 * 60 * 1000);
    // Results are refused until the batch has ended.
    const early = await fetch(`${sim.url}/v1/messages/batches/${created.id}/results`, { headers: { 'x-api-key': 'k' } });
    expect(early.status).toBe(400);

    expect(sim.endBatches()).toBe(1);
    const ended = await waitUntilEnded(client, created.id);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 6, errored: 2, canceled: 0, expired: 0 });
    expect(ended.results_url).toBe(`${sim.url}/v1/messages/batches/${created.id}/results`);
    expect(ended.ended_at).not.toBeNull();

    const lines = await results(client, created.id);
    expect(lines.map((l) => l.custom_id).sort()).toEqual([...requests(6).map((r) => r.custom_id), 'no-max-tokens', 'unknown-model'].sort());
    for (const r of requests(6)) {
      const line = lines.find((l) => l.custom_id === r.custom_id)!;
      expect(line.result).toEqual({ type: 'succeeded', message: simulatedMessage(r.params) });
    }
    expect(lines.find((l) => l.custom_id === 'no-max-tokens')!.result).toMatchObject({
      type: 'errored',
      error: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/max_tokens/) } },
    });
    expect(lines.find((l) => l.custom_id === 'unknown-model')!.result).toMatchObject({
      type: 'errored',
      error: { error: { type: 'not_found_error' } },
    });
    // Batches do not draw on the Messages limits, nor count as Messages requests.
    expect(sim.counters()).toMatchObject({ requests: 0, batchesCreated: 1, batchCreateCalls: 1 });
  });

  it('returns results in a shuffled order, the same order for the same seed', async () => {
    async function order(seed: number): Promise<string[]> {
      const s = await startSimulator({ batchMs: 0, seed });
      try {
        const client = sdk(s);
        const { id } = await client.messages.batches.create({ requests: requests(40) });
        return (await results(client, id)).map((l) => l.custom_id);
      } finally {
        await s.close();
      }
    }
    const first = await order(3);
    expect(first).not.toEqual(requests(40).map((r) => r.custom_id));
    expect(await order(3)).toEqual(first);
  });

  it('lists batches newest first and pages with after_id and before_id', async () => {
    sim = await startSimulator({ batchMs: 0 });
    const client = sdk(sim);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.messages.batches.create({ requests: requests(1, `b${i}`) })).id);
    const [b0, b1, b2, b3, b4] = ids as [string, string, string, string, string];

    const first = await client.messages.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([b4, b3]);
    expect(first).toMatchObject({ has_more: true, first_id: b4, last_id: b3 });
    const second = await client.messages.batches.list({ limit: 2, after_id: b3 });
    expect(second.data.map((b) => b.id)).toEqual([b2, b1]);
    const last = await client.messages.batches.list({ limit: 2, after_id: b1 });
    expect(last.data.map((b) => b.id)).toEqual([b0]);
    expect(last.has_more).toBe(false);
    const before = await client.messages.batches.list({ limit: 2, before_id: b1 });
    expect(before.data.map((b) => b.id)).toEqual([b3, b2]);
    expect(before.has_more).toBe(true);
    const newest = await client.messages.batches.list({ limit: 2, before_id: b3 });
    expect(newest).toMatchObject({ has_more: false });
    expect(newest.data.map((b) => b.id)).toEqual([b4]);

    // The SDK's auto-pagination walks every page.
    const all: string[] = [];
    for await (const b of client.messages.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([b4, b3, b2, b1, b0]);
    expect((await client.messages.batches.list()).data).toHaveLength(5);
    const err = await rejection(client.messages.batches.list({ limit: 1001 }));
    expect(err.status).toBe(400);
  });

  it('cancels a batch: canceling, then ended with the unreached requests canceled', async () => {
    sim = await startSimulator({ batchMs: 60_000 });
    const client = sdk(sim);
    const { id } = await client.messages.batches.create({ requests: requests(10) });
    const canceling = await client.messages.batches.cancel(id);
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    // Still processing: cannot be deleted yet.
    expect((await rejection(client.messages.batches.delete(id))).status).toBe(400);

    const ended = await waitUntilEnded(client, id);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 10, expired: 0 });
    const lines = await results(client, id);
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.result.type === 'canceled')).toBe(true);

    await expect(client.messages.batches.delete(id)).resolves.toEqual({ id, type: 'message_batch_deleted' });
    expect((await rejection(client.messages.batches.retrieve(id))).status).toBe(404);
  });

  it('endBatches ends every batch in progress at once, with all its results; a canceling batch stays as its cancel left it', async () => {
    sim = await startSimulator({ batchMs: 3_600_000 });
    const client = sdk(sim);
    const running = await client.messages.batches.create({ requests: requests(5) });
    const canceled = await client.messages.batches.create({ requests: requests(4, 'c') });
    await client.messages.batches.cancel(canceled.id);
    expect((await client.messages.batches.retrieve(running.id)).processing_status).toBe('in_progress');

    expect(sim.endBatches()).toBe(1);
    const ended = await client.messages.batches.retrieve(running.id);
    expect(ended.processing_status).toBe('ended');
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 5, errored: 0, canceled: 0, expired: 0 });
    expect((await results(client, running.id)).map((l) => l.result.type)).toEqual(Array(5).fill('succeeded'));
    const stopped = await waitUntilEnded(client, canceled.id);
    expect(stopped.request_counts.canceled).toBe(4);
    expect(sim.endBatches()).toBe(0);

    // The same over HTTP, for a simulator in another process (`claw-batch simulate`).
    const later = await client.messages.batches.create({ requests: requests(2, 'h') });
    const control = (body: unknown) =>
      fetch(`${sim!.url}/_sim/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await (await control({ endBatches: true })).json()).toEqual({ ok: true, batchesEnded: 1 });
    expect((await client.messages.batches.retrieve(later.id)).processing_status).toBe('ended');
    const refused = await control({ endBatches: 'now' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/endBatches: expected true or false, got `"now"`/);
  });

  it('keeps what processing reached before a cancel part-way through', async () => {
    sim = await startSimulator({ batchMs: 1000 });
    const client = sdk(sim);
    const { id } = await client.messages.batches.create({ requests: requests(20) });
    await sleep(400);
    await client.messages.batches.cancel(id);
    const { request_counts: counts } = await waitUntilEnded(client, id);
    expect(counts.succeeded).toBeGreaterThan(0);
    expect(counts.canceled).toBeGreaterThan(0);
    expect(counts.succeeded + counts.canceled).toBe(20);
  });

  it('expires the fraction of requests batchExpireRate asks for', async () => {
    sim = await startSimulator({ batchMs: 0, batchExpireRate: 1 });
    const client = sdk(sim);
    const { id } = await client.messages.batches.create({ requests: requests(3) });
    expect((await client.messages.batches.retrieve(id)).request_counts).toMatchObject({ expired: 3, succeeded: 0 });
    expect((await results(client, id)).map((l) => l.result)).toEqual([{ type: 'expired' }, { type: 'expired' }, { type: 'expired' }]);
  });

  it('answers 413 request_too_large for a body over maxBatchBytes', async () => {
    sim = await startSimulator({ maxBatchBytes: 10_000 });
    const client = sdk(sim);
    const big = Array.from({ length: 20 }, (_, i) => ({ custom_id: `big-${i}`, params: params('y'.repeat(1000)) }));
    const err = await rejection(client.messages.batches.create({ requests: big }));
    expect(err.status).toBe(413);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(sim.counters()).toMatchObject({ batchesCreated: 0, batchCreateCalls: 1 });
    // The connection stays usable: a small batch right after is accepted.
    await expect(client.messages.batches.create({ requests: requests(1) })).resolves.toMatchObject({ type: 'message_batch' });
  });

  it('refuses bad, duplicate or too many custom_ids, and an empty batch, naming the problem', async () => {
    sim = await startSimulator({ maxBatchRequests: 3 });
    const client = sdk(sim);
    const badId = await rejection(client.messages.batches.create({ requests: [{ custom_id: 'has space', params: params('x') }] }));
    expect(badId.status).toBe(400);
    expect(badId.error).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('has space') } });
    const dup = await rejection(
      client.messages.batches.create({ requests: [{ custom_id: 'same', params: params('x') }, { custom_id: 'same', params: params('y') }] }),
    );
    expect(dup.error).toMatchObject({ error: { message: expect.stringMatching(/`same`.*more than once/) } });
    expect((await rejection(client.messages.batches.create({ requests: [] }))).status).toBe(400);
    const tooMany = await rejection(client.messages.batches.create({ requests: requests(4) }));
    expect(tooMany.error).toMatchObject({ error: { message: expect.stringMatching(/at most 3/) } });
    expect(sim.counters().batchesCreated).toBe(0);
  });

  it('fails exactly the batch-create calls failBatchCreates names', async () => {
    sim = await startSimulator({ failBatchCreates: [2] });
    const client = sdk(sim);
    await client.messages.batches.create({ requests: requests(1, 'one') });
    const err = await rejection(client.messages.batches.create({ requests: requests(1, 'two') }));
    expect(err.status).toBe(500);
    expect(err.error).toMatchObject({ error: { type: 'api_error' } });
    await client.messages.batches.create({ requests: requests(1, 'three') });
    expect(sim.counters()).toMatchObject({ batchCreateCalls: 3, batchesCreated: 2 });
  });
});
