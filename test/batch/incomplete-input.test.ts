/**
 * The items read to be sent must be the items that were checked: a submit whose second read of the
 * input comes up short (an input replaced meanwhile, or read twice when it could be read once)
 * stops with exit 3 and creates nothing, instead of printing a job id for an empty job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { StoppedError } from '../../src/errors.js';
import { newManifest } from '../../src/batch/jobs.js';
import { submitJob } from '../../src/batch/submitter.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Item } from '../../src/types.js';

describe('submitting an input that gives fewer items than were checked', () => {
  let sim: Simulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({});
    dir = mkdtempSync(join(tmpdir(), 'claw-batch-incomplete-'));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops (exit 3) without creating a batch or marking the job submitted', async () => {
    const env = { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: 'test-key', CLAW_BATCH_STATE_DIR: join(dir, 'state') };
    const manifest = newManifest({
      input: { displayName: 'items.jsonl', format: 'jsonl', count: 5, contentHash: 'x' },
      inputPath: '-',
      defaults: {},
      createdBy: 'submit',
      selection: 'all',
      chunkLimits: { maxRequests: 100, maxBytes: 1_000_000 },
    });
    const nothing = (async function* (): AsyncGenerator<Item> {})();
    const failure = await submitJob({ client: createClient({}, env), env, manifest, items: nothing }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoppedError);
    expect((failure as StoppedError).exitCode).toBe(3);
    expect((failure as Error).message).toMatch(/items\.jsonl gave 0 items when read to be sent, but 5 items when it was checked/);
    expect(manifest.state).toBe('submitting');
    expect(sim.counters().batchesCreated).toBe(0);
  });
});
