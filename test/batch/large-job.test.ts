import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { replyText } from '../../src/simulator/index.js';
import type { ResultLine } from '../../src/types.js';
import { paramsOf, readManifest, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 120_000;

describe('a job over the 100,000-request cap', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ batchMs: 200 });
    writeItems(sb.file('big.jsonl'), N);
  });
  afterAll(() => sb.close());

  it('is split into batches under the cap, and every result is mapped back to its item', async () => {
    const submitted = await sb.cli(['submit', 'big.jsonl'], {}, 60_000);
    expect(submitted.code).toBe(0);
    const jobId = submitted.stdout.trim();
    const { batches } = readManifest(sb, jobId);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) expect(b.count).toBeLessThanOrEqual(100_000);
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(N);
    expect(sb.sim.counters().batchesCreated).toBe(batches.length);

    const polled = await sb.cli(['poll', jobId, '--wait', '-o', 'out.jsonl'], {}, 60_000);
    expect(polled.code).toBe(0);

    const seen = new Set<string>();
    let wrong = 0;
    const lines = createInterface({ input: createReadStream(sb.file('out.jsonl')) });
    for await (const text of lines) {
      const line = JSON.parse(text) as ResultLine;
      expect(seen.has(line.custom_id)).toBe(false);
      seen.add(line.custom_id);
      if (textOf(line) !== replyText(paramsOf(Number(line.custom_id.slice(5))))) wrong++;
    }
    expect(seen.size).toBe(N);
    expect(wrong).toBe(0);
  }, 90_000);
});
