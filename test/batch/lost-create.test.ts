import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { findLostBatch } from '../../src/batch/lost-batch.js';
import { replyText } from '../../src/simulator/index.js';
import { paramsOf, readManifest, readResults, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 40;
const SMALL_BATCHES = { CLAW_BATCH_MAX_BATCH_REQUESTS: '10' };

/** The batch request the CLI builds for item `i`, under `customId`. */
function request(customId: string, i: number): Anthropic.Messages.BatchCreateParams.Request {
  return { custom_id: customId, params: paramsOf(i) as Anthropic.Messages.MessageCreateParamsNonStreaming };
}

describe('a batch create whose answer was lost', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ batchMs: 200, failBatchCreates: [3] });
    writeItems(sb.file('items.jsonl'), N);
  });
  afterAll(() => sb.close());

  it('is found among the account\'s batches by the rerun and adopted, not created twice', async () => {
    const first = await sb.inProcess(['submit', 'items.jsonl'], SMALL_BATCHES);
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(/creating batch 3 failed \(500.*may have made it all the same; it is not among the account's batches yet — `claw-batch list` shows them/);
    const jobId = sb.jobs()[0]!.replace(/\.json$/, '');
    expect(readManifest(sb, jobId).batches).toHaveLength(2);

    // As if the API had made batch 3 after all: the same requests, created after the 500.
    const client = createClient({}, sb.env);
    const made = await client.messages.batches.create({
      requests: Array.from({ length: 10 }, (_, k) => request(`item-${20 + k}`, 20 + k)),
    });

    const rerun = await sb.inProcess(['submit', 'items.jsonl'], SMALL_BATCHES);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout.trim()).toBe(jobId);
    expect(rerun.stderr).toContain(`batch 3: found ${made.id}`);
    const after = readManifest(sb, jobId) as ReturnType<typeof readManifest> & { batches: { id: string; adopted?: boolean }[]; pendingCreate?: unknown };
    expect(after.batches.map((b) => b.id)[2]).toBe(made.id);
    expect(after.batches[2]!.adopted).toBe(true);
    expect(after.pendingCreate).toBeUndefined();
    // 2 + the one "lost" + batch 4: nothing was created twice.
    expect(sb.sim.counters().batchesCreated).toBe(4);

    const poll = await sb.inProcess(['poll', jobId, '--wait', '-o', 'out.jsonl']);
    expect(poll.code).toBe(0);
    const lines = readResults(sb.file('out.jsonl'));
    expect(lines).toHaveLength(N);
    for (const line of lines) expect(textOf(line)).toBe(replyText(paramsOf(Number(line.custom_id.slice(5)))));
  });

  it('adopts none when several batches could be the lost one, and never one a local job records', async () => {
    const client = createClient({}, sb.env);
    const sentAt = new Date().toISOString();
    const make = (from: number) =>
      client.messages.batches.create({ requests: Array.from({ length: 7 }, (_, k) => request(`x-${from + k}`, from + k)) });
    const a = await make(0);
    const one = await findLostBatch(client, sb.env, { count: 7, sentAt });
    expect(one.found?.id).toBe(a.id);
    const b = await make(100);
    const two = await findLostBatch(client, sb.env, { count: 7, sentAt });
    expect(two.found).toBeUndefined();
    expect(two.candidates.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    // Batches of the job above are recorded locally: never candidates, whatever their size.
    const recorded = await findLostBatch(client, sb.env, { count: 10, sentAt: new Date(Date.now() - 60_000).toISOString() });
    expect(recorded.candidates).toEqual([]);
  });
});
