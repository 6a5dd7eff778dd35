/**
 * The Batches API's processing queue holds only so many requests (Start tier: 200,000, all
 * models). A job bigger than what is left of it: `submit` creates what fits and returns the job id,
 * `poll` creates the rest as batches end (exit 75 until every batch is created and has ended), and
 * `run --batch-api` does both in one go. Every item once; the queue never over its limit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readResults, sandbox, type Sandbox } from './helpers.js';

const N = 45;
const QUEUE = 25;
/** Batches of 10 against a queue of 25: two fit, the third waits until they end. */
const ENV = { CLAW_BATCH_MAX_BATCH_REQUESTS: '10', CLAW_BATCH_POLL_INTERVAL_S: '0.2' };
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '1024'];

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function setUp(): Promise<Sandbox> {
  sb = await sandbox({ batchMs: 1200, batchQueueLimit: QUEUE });
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ custom_id: `doc-${i}`, prompt: `Label document ${i}` }));
  writeFileSync(sb.file('items.jsonl'), `${lines.join('\n')}\n`);
  return sb;
}

function expectEveryItemOnce(s: Sandbox, file: string): void {
  const lines = readResults(s.file(file));
  expect(lines).toHaveLength(N);
  expect(new Set(lines.map((l) => l.custom_id)).size).toBe(N);
  expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
}

describe('a job bigger than the processing queue has room for', () => {
  it('submit creates what fits and returns; poll from cron creates the rest as batches end, exit 75 until all are done', async () => {
    const s = await setUp();
    const submitted = await s.cli(['submit', 'items.jsonl', ...MODEL], ENV);
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = submitted.stdout.trim();
    expect(jobId).toMatch(/^job_\d{8}_\d{6}_[0-9a-f]{4}$/);
    expect(submitted.stderr).toMatch(/processing queue is full/);
    expect(submitted.stderr).toContain(`claw-batch poll ${jobId}`);
    expect(s.sim.counters().batchesCreated).toBe(2);
    const manifest = JSON.parse(readFileSync(s.file(`state/jobs/${jobId}.json`), 'utf8')) as { state: string; items: number };
    expect(manifest).toMatchObject({ state: 'submitting', items: 20 });
    const listed = await s.inProcess(['list', '--json'], ENV);
    const jobs = (JSON.parse(listed.stdout) as { jobs: Array<{ id: string; state: string; queueFull: boolean }> }).jobs;
    expect(jobs.find((j) => j.id === jobId)).toMatchObject({ state: 'submitting', queueFull: true });

    // The first poll: the rest cannot go yet (or, on a slow machine where the first batches have
    // already ended, it has just gone) — still processing either way, nothing written.
    const early = await s.cli(['poll', jobId, '-o', 'out.jsonl'], ENV);
    expect(early.code).toBe(75);
    expect(early.stderr).toMatch(/the rest of the job is created once the processing queue has room|batch 3: created/);

    // A cron line: poll until it is not 75 any more.
    let last = early;
    for (let i = 0; i < 40 && last.code === 75; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      last = await s.cli(['poll', jobId, '-o', 'out.jsonl', '--quiet'], ENV);
    }
    expect(last.code, last.stderr).toBe(0);
    expectEveryItemOnce(s, 'out.jsonl');
    const c = s.sim.counters();
    expect(c.batchesCreated).toBe(5);
    expect(c.batchQueuePeak).toBeLessThanOrEqual(QUEUE);
    expect(c.batchQueueRefusals).toBeGreaterThanOrEqual(1);
  });

  it('run --batch-api waits for room and creates the rest itself: every item once, exit 0', async () => {
    const s = await setUp();
    const r = await s.cli(['run', 'items.jsonl', ...MODEL, '--batch-api', '-o', 'out.jsonl'], ENV);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/processing queue is full/);
    expect(r.stderr).toMatch(/45 items in 5 batches submitted/);
    expectEveryItemOnce(s, 'out.jsonl');
    const c = s.sim.counters();
    expect(c.batchesCreated).toBe(5);
    expect(c.batchQueuePeak).toBeLessThanOrEqual(QUEUE);
    // Nothing sent in real time, nothing twice.
    expect(c.requests).toBe(0);
  });

  it('the simulator refuses a create past the queue limit with a 429 rate_limit_error, and takes it once batches end', async () => {
    const s = await setUp();
    const create = (n: number, tag: string) =>
      fetch(`${s.sim.url}/v1/messages/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          requests: Array.from({ length: n }, (_, i) => ({ custom_id: `${tag}-${i}`, params: { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] } })),
        }),
      });
    expect((await create(20, 'a')).status).toBe(200);
    const refused = await create(10, 'b');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toMatch(/limit of 25 batch requests in the processing queue \(20 are processing/);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect((await create(10, 'b')).status).toBe(200);
  });
});
