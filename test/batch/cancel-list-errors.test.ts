import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, sandbox, writeItems, type Sandbox } from './helpers.js';

/** A 127.0.0.1 port nothing listens on (bound on port 0, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('cancel, list and the state dir when something is wrong', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ batchMs: 150, rejectKeys: ['rejected-key'] });
    writeItems(sb.file('items.jsonl'), 5);
    writeFileSync(sb.file('a-file'), 'not a directory\n');
  });
  afterAll(() => sb.close());

  it('a state dir under a regular file is a usage error naming CLAW_BATCH_STATE_DIR, for submit and list', async () => {
    const bad = { CLAW_BATCH_STATE_DIR: sb.file('a-file/state') };
    for (const args of [['list'], ['submit', 'items.jsonl']]) {
      const r = await sb.inProcess(args, bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^claw-batch: CLAW_BATCH_STATE_DIR \(.*a-file\/state\) cannot hold the job manifests: .*part of the path is a file, not a directory/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect(sb.sim.counters().batchCreateCalls).toBe(0);
  });

  it('cancel of an unknown batch id says so in one sentence and exits 2, like poll', async () => {
    const polled = await sb.inProcess(['poll', 'msgbatch_nope']);
    const canceled = await sb.inProcess(['cancel', 'msgbatch_nope']);
    expect(polled.code).toBe(2);
    expect(canceled.code).toBe(2);
    expect(canceled.stderr).toBe(polled.stderr);
    expect(canceled.stderr).toMatch(/^claw-batch: the API knows no batch msgbatch_nope .*\n$/);
    expect(canceled.stderr).not.toMatch(/request_id|\{/);
  });

  it('cancel of a job that has ended and been written cancels nothing and says so', async () => {
    const submitted = await sb.inProcess(['submit', 'items.jsonl']);
    const jobId = submitted.stdout.trim();
    expect((await sb.inProcess(['poll', jobId, '--wait', '-o', 'out.jsonl'])).code).toBe(0);
    const r = await sb.inProcess(['cancel', jobId]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${jobId} had already ended; nothing was canceled — its results were written to .*out\\.jsonl`));
    expect(r.stderr).not.toMatch(/^canceled/m);
    expect((readManifest(sb, jobId) as { canceledAt?: string }).canceledAt).toBeUndefined();
  });

  it('list with a rejected key lists the local jobs, then reports the 401 and exits 3', async () => {
    const r = await sb.inProcess(['list'], { ANTHROPIC_API_KEY: 'rejected-key' });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^Local jobs/);
    expect(r.stdout).toMatch(/job_\d{8}/);
    expect(r.stderr).toMatch(/rejected the API key \(401/);
  });

  it('list when the API cannot be reached lists the local jobs, warns in one line and exits 3 (the listing is incomplete)', async () => {
    const port = await closedPort();
    const r = await sb.inProcess(['list', '--json'], { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { jobs: unknown[]; note: string };
    expect(out.jobs.length).toBeGreaterThan(0);
    expect(out.note).toMatch(/could not list the account's batches/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/could not list the account's batches \(.*\); the local jobs are listed/);
  });

  it('list without any API key lists the local jobs and exits 0', async () => {
    const r = await sb.inProcess(['list'], { ANTHROPIC_API_KEY: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/set ANTHROPIC_API_KEY to see the account's batches/);
  });
});
