import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyText } from '../../src/simulator/index.js';
import { paramsOf, readResults, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 30;
const SMALL_BATCHES = { CLAW_BATCH_MAX_BATCH_REQUESTS: '10' };

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('run --batch-api killed while waiting, then run again', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ batchMs: 4000 });
    writeItems(sb.file('items.jsonl'), N);
  });
  afterAll(() => sb.close());

  it('re-attaches to its job: no new batch is created, and every result is written', async () => {
    const args = ['run', 'items.jsonl', '--batch-api', '-o', 'out.jsonl'];
    const first = sb.spawnCli(args, SMALL_BATCHES);
    await until(() => /3 batches submitted/.test(first.stderr()), 20_000);
    first.child.kill('SIGKILL');
    await first.done;
    expect(sb.sim.counters().batchesCreated).toBe(3);

    const again = await sb.cli(args, SMALL_BATCHES);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/re-attaching to job job_\S+ \(3 batches/);
    expect(sb.sim.counters().batchesCreated).toBe(3);
    const lines = readResults(sb.file('out.jsonl'));
    expect(lines).toHaveLength(N);
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(N);
    for (const line of lines) expect(textOf(line)).toBe(replyText(paramsOf(Number(line.custom_id.slice(5)))));

    // Finished: the same command now finds every item done and sends nothing.
    const third = await sb.inProcess(['run', sb.file('items.jsonl'), '--batch-api', '-o', 'out.jsonl'], SMALL_BATCHES);
    expect(third.stderr).toMatch(/nothing to send/);
    expect(third.code).toBe(0);
    expect(sb.sim.counters().batchCreateCalls).toBe(3);
    expect(readResults(sb.file('out.jsonl'))).toHaveLength(N);
  });
});
