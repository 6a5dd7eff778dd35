import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyText } from '../../src/simulator/index.js';
import { paramsOf, readManifest, readResults, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 30;

describe('cancel, then --retry-failed', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    // Long enough that a cancel right after the submit finds most requests unprocessed.
    sb = await sandbox({ batchMs: 8000 });
    writeItems(sb.file('items.jsonl'), N);
  });
  afterAll(() => sb.close());

  it('brings back every item, the unprocessed ones canceled, exit 1; a retry job resends exactly those', async () => {
    const submitted = await sb.cli(['submit', 'items.jsonl'], { CLAW_BATCH_MAX_BATCH_REQUESTS: '15' });
    expect(submitted.code).toBe(0);
    const jobId = submitted.stdout.trim();

    const canceled = await sb.inProcess(['cancel', jobId]);
    expect(canceled.code).toBe(0);
    expect(canceled.stderr).toMatch(/cancel requested/);

    const polled = await sb.cli(['poll', jobId, '--wait', '-o', 'out.jsonl']);
    expect(polled.code).toBe(1);
    const lines = readResults(sb.file('out.jsonl'));
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(N);
    expect(lines).toHaveLength(N);
    const failed = lines.filter((l) => l.result.type !== 'succeeded').map((l) => l.custom_id);
    expect(failed.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.result.type === 'canceled').length).toBe(failed.length);

    sb.sim.setOptions({ batchMs: 200 });
    const retried = await sb.cli(['submit', '--retry-failed', jobId]);
    expect(retried.code).toBe(0);
    const retryId = retried.stdout.trim();
    expect(retryId).not.toBe(jobId);
    const manifest = readManifest(sb, retryId);
    expect(manifest.parentJob).toBe(jobId);
    expect(manifest.items).toBe(failed.length);

    // Polled into the parent's output: the fresh results replace the canceled lines.
    const done = await sb.inProcess(['poll', retryId, '--wait', '-o', 'out.jsonl']);
    expect(done.code).toBe(0);
    const final = readResults(sb.file('out.jsonl'));
    expect(final).toHaveLength(N);
    expect(new Set(final.map((l) => l.custom_id)).size).toBe(N);
    for (const line of final) expect(textOf(line)).toBe(replyText(paramsOf(Number(line.custom_id.slice(5)))));

    // The retry of a job whose items all succeeded sends nothing.
    const calls = sb.sim.counters().batchCreateCalls;
    const again = await sb.inProcess(['submit', '--retry-failed', retryId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/nothing to retry/);
    expect(sb.sim.counters().batchCreateCalls).toBe(calls);
  });

  it('refuses --retry-failed when the input changed since the job', async () => {
    const { appendFileSync } = await import('node:fs');
    const [file] = sb.jobs().sort();
    appendFileSync(sb.file('items.jsonl'), '{"custom_id":"extra","prompt":"x","model":"claude-haiku-4-5","max_tokens":5}\n');
    const r = await sb.inProcess(['submit', '--retry-failed', file!.replace(/\.json$/, '')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/items\.jsonl changed since job job_\S+ was submitted/);
  });

  it('refuses flags that would change the items with --retry-failed, instead of dropping them', async () => {
    const [file] = sb.jobs().sort();
    const id = file!.replace(/\.json$/, '');
    const r = await sb.inProcess(['submit', '--retry-failed', id, '--model', 'claude-sonnet-4-6', '--max-tokens', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`claw-batch: --retry-failed resends the items as job ${id} built them, so --model, --max-tokens cannot change them; submit the input as a new job to change them\n`);
  });
});

