import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyText } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/run-process.js';
import { paramsOf, readManifest, readResults, sandbox, textOf, writeItems, type Sandbox } from './helpers.js';

const N = 30;
const BAD = 7; // item 7 names a model the API does not know: its result comes back errored

describe('submit, then poll', () => {
  let sb: Sandbox;
  let jobId: string;
  beforeAll(async () => {
    // The batches process until the --wait test ends them: the tests before it see them processing
    // however slowly this machine runs the CLI (a fixed batchMs raced them on a busy CI machine).
    sb = await sandbox({ batchMs: 3_600_000 });
    writeItems(sb.file('items.jsonl'), N, (i) => (i === BAD ? 'no-such-model' : 'claude-haiku-4-5'));
  });
  afterAll(() => sb.close());

  it('prints the job id alone on stdout', async () => {
    const r = await sb.cli(['submit', 'items.jsonl', '--batch-api'], { CLAW_BATCH_MAX_BATCH_REQUESTS: '12' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^job_\d{8}_\d{6}_[0-9a-f]{4}\n$/);
    jobId = r.stdout.trim();
    expect(r.stderr).toContain(jobId);
    expect(readManifest(sb, jobId).batches.map((b) => b.count)).toEqual([12, 12, 6]);
    expect(sb.sim.counters().batchesCreated).toBe(3);
  });

  it('exits 75 while the batches are processing', async () => {
    const r = await sb.cli(['poll', jobId, '-o', 'out.jsonl']);
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/still processing; poll again later/);
    expect(r.stderr).toMatch(/in_progress/);
    expect(r.stdout).toBe('');
  });

  it('with --quiet, exits 75 silently while processing (a cron line mails nothing)', async () => {
    const r = await sb.inProcess(['poll', jobId, '-o', 'out.jsonl', '--quiet']);
    expect(r.code).toBe(75);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
  });

  it('refuses to submit the same input while its job is active, naming the job', async () => {
    const r = await sb.inProcess(['submit', 'items.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(jobId);
    expect(r.stdout).toBe('');
    expect(sb.sim.counters().batchesCreated).toBe(3);
  });

  it('--wait writes every result once, errored ones included, each with its own answer; exit 1', async () => {
    const calls = sb.sim.counters().batchRequests;
    const polling = sb.cli(['poll', jobId, '--wait', '-o', 'out.jsonl']);
    // The poller finds them processing (it has retrieved all three) and waits; then they end.
    await waitFor(() => sb.sim.counters().batchRequests >= calls + 3);
    expect(sb.sim.endBatches()).toBe(3);
    const r = await polling;
    expect(r.code).toBe(1);
    // Each batch's end is said before the results are written.
    expect(r.stderr).toMatch(/batches ended|msgbatch_\w+: ended — /);
    const lines = readResults(sb.file('out.jsonl'));
    expect(lines).toHaveLength(N);
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(N);
    for (const line of lines) {
      const i = Number(line.custom_id.slice('item-'.length));
      if (i === BAD) {
        expect(line.result.type).toBe('errored');
      } else {
        expect(textOf(line)).toBe(replyText(paramsOf(i)));
      }
    }
    expect(readManifest(sb, jobId).state).toBe('written');
  });

  it('polling again adds no line', async () => {
    const r = await sb.cli(['poll', jobId, '-o', 'out.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/0 new line\(s\)/);
    expect(readResults(sb.file('out.jsonl'))).toHaveLength(N);
  });

  it('polls a single msgbatch_ id to stdout', async () => {
    const batchId = readManifest(sb, jobId).batches[2]!.id;
    const r = await sb.inProcess(['poll', batchId]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(Array.from({ length: 6 }, (_, k) => `item-${24 + k}`).sort());
  });

  it('lists the job and the account\'s batches as JSON', async () => {
    const r = await sb.inProcess(['list', '--json', '--limit', '2']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.jobs.map((j: { id: string }) => j.id)).toContain(jobId);
    expect(out.batches).toHaveLength(2);
  });

  it('names the state dir for an unknown job id', async () => {
    const r = await sb.inProcess(['poll', 'job_20260101_000000_beef']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no job job_20260101_000000_beef in .*state.*jobs; `claw-batch list` shows the jobs/);
  });

  it('--dry-run validates, prints the chunks and sends nothing', async () => {
    const before = sb.sim.counters().batchCreateCalls;
    const r = await sb.inProcess(['submit', 'items.jsonl', '--dry-run'], { CLAW_BATCH_MAX_BATCH_REQUESTS: '12' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/batch 3: 6 requests/);
    expect(r.stderr).toMatch(/nothing was sent/);
    expect(sb.sim.counters().batchCreateCalls).toBe(before);
  });

  it('rejects a bad input line with exit 2 before sending anything', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(sb.file('bad.jsonl'), '{"prompt":"a","model":"claude-haiku-4-5","max_tokens":5}\n{not json\n');
    const before = sb.sim.counters().batchCreateCalls;
    const r = await sb.inProcess(['submit', 'bad.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:2/);
    expect(r.stdout).toBe('');
    expect(sb.sim.counters().batchCreateCalls).toBe(before);
  });
});

describe('run --batch-api after a submit of the same requests', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ batchMs: 1500 });
    writeItems(sb.file('items.jsonl'), 10, () => 'claude-haiku-4-5');
  });
  afterAll(() => sb.close());

  it('waits on that job instead of paying for the requests again', async () => {
    const submitted = await sb.cli(['submit', 'items.jsonl', '--batch-api']);
    const jobId = submitted.stdout.trim();
    expect(sb.sim.counters().batchesCreated).toBe(1);
    const r = await sb.cli(['run', 'items.jsonl', '--batch-api', '-o', 'run-out.jsonl'], { CLAW_BATCH_POLL_INTERVAL_S: '0.2' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`job ${jobId} (from submit)`);
    expect(sb.sim.counters().batchesCreated).toBe(1);
    expect(new Set(readResults(sb.file('run-out.jsonl')).map((l) => l.custom_id)).size).toBe(10);
  });
});
