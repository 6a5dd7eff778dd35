import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyText } from '../../src/simulator/index.js';
import { paramsOf, readManifest, readResults, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 40;
const SMALL_BATCHES = { CLAW_BATCH_MAX_BATCH_REQUESTS: '10' };

describe('a batch create that fails midway', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    // The 3rd of 4 creates is answered 500.
    sb = await sandbox({ batchMs: 300, failBatchCreates: [3] });
    writeItems(sb.file('items.jsonl'), N);
  });
  afterAll(() => sb.close());

  it('records the batches that exist, and the rerun finishes the job without sending any twice', async () => {
    const first = await sb.cli(['submit', 'items.jsonl'], SMALL_BATCHES);
    expect(first.code).toBe(3);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/creating batch 3 failed \(500.*the 2 batches created so far are recorded/);
    const [file] = sb.jobs();
    const jobId = file!.replace(/\.json$/, '');
    const before = readManifest(sb, jobId);
    expect(before.state).toBe('submitting');
    expect(before.batches).toHaveLength(2);

    const rerun = await sb.cli(['submit', 'items.jsonl'], SMALL_BATCHES);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout.trim()).toBe(jobId);
    expect(rerun.stderr).toMatch(/batch 1: .* already created/);
    const after = readManifest(sb, jobId);
    expect(after.batches.map((b) => b.count)).toEqual([10, 10, 10, 10]);
    expect(after.batches.slice(0, 2)).toEqual(before.batches);
    expect(sb.jobs()).toHaveLength(1);
    // 5 create calls (one refused), 4 batches: nothing was created twice.
    expect(sb.sim.counters().batchCreateCalls).toBe(5);
    expect(sb.sim.counters().batchesCreated).toBe(4);

    const poll = await sb.inProcess(['poll', jobId, '--wait', '-o', 'out.jsonl']);
    expect(poll.code).toBe(0);
    const lines = readResults(sb.file('out.jsonl'));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(Array.from({ length: N }, (_, i) => `item-${i}`).sort());
    for (const line of lines) expect(textOf(line)).toBe(replyText(paramsOf(Number(line.custom_id.slice(5)))));
  });
});
