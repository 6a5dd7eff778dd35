import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findActiveJob, findRunJob, newManifest, type JobRecipe } from '../../src/batch/jobs.js';
import { saveManifest, type JobManifest } from '../../src/batch/manifest.js';
import { runBatchJob } from '../../src/batch/run-batch-job.js';
import { loadSettings } from '../../src/config.js';
import { prepareInput } from '../../src/input/index.js';
import { readResults, sandbox, type Sandbox } from './helpers.js';

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

const N = 12;
const TEMPLATE = 'Say: {{text}}';

/** `run in.csv --template … --id-field id --model m --max-tokens 20 --batch-api -o out.jsonl`, in-process. */
async function runCsv(sb: Sandbox, over: { template?: string; fresh?: boolean } = {}) {
  const template = over.template ?? TEMPLATE;
  const settings = await loadSettings({ model: 'claude-haiku-4-5', maxTokens: 20 }, { env: sb.env, cwd: sb.dir });
  const prepared = await prepareInput(
    { path: sb.file('in.csv'), template, idField: 'id', defaults: { model: settings.model, max_tokens: settings.maxTokens, system: settings.system } },
    process.stdin,
  );
  const stderr = collector();
  try {
    const { code } = await runBatchJob({
      prepared,
      settings,
      template,
      idField: 'id',
      output: 'out.jsonl',
      fresh: Boolean(over.fresh),
      quiet: false,
      json: false,
      ctx: { stdout: collector().stream, stderr: stderr.stream, env: sb.env, cwd: sb.dir },
    });
    return { code, stderr: stderr.text() };
  } finally {
    await prepared.dispose();
  }
}

function manifestOf(sb: Sandbox, id: string): JobManifest {
  return JSON.parse(readFileSync(join(sb.dir, 'state', 'jobs', `${id}.json`), 'utf8')) as JobManifest;
}

describe('a run --batch-api job of a CSV with --template and --id-field', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    // Some requests expire, so there is something for --retry-failed to resend.
    sb = await sandbox({ batchMs: 150, batchExpireRate: 0.4, seed: 7 });
    const rows = Array.from({ length: N }, (_, i) => `r${i},line ${i}`);
    writeFileSync(sb.file('in.csv'), `id,text\n${rows.join('\n')}\n`);
  });
  afterAll(() => sb.close());

  it('records the template, id field and format, and --retry-failed rebuilds the same requests from them', async () => {
    const first = await runCsv(sb);
    expect(first.code).toBe(1);
    const [file] = sb.jobs();
    const jobId = file!.replace(/\.json$/, '');
    const m = manifestOf(sb, jobId);
    expect(m.input).toMatchObject({ format: 'csv', template: TEMPLATE, idField: 'id' });
    expect(m.defaults).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 20 });
    const failed = readResults(sb.file('out.jsonl')).filter((l) => l.result.type !== 'succeeded').map((l) => l.custom_id);
    expect(failed.length).toBeGreaterThan(0);

    sb.sim.setOptions({ batchExpireRate: 0 });
    const retry = await sb.inProcess(['submit', '--retry-failed', jobId]);
    expect(retry.stderr).not.toMatch(/no --template/);
    expect(retry.code).toBe(0);
    const retryJob = manifestOf(sb, retry.stdout.trim());
    expect(retryJob.items).toBe(failed.length);
    expect(retryJob.input).toMatchObject({ format: 'csv', template: TEMPLATE, idField: 'id' });
  });

  it('--fresh over an unfinished job of the same run warns, names it and how to cancel it, and is never re-attached to again', async () => {
    // The job an interrupted earlier run left, still processing on the API.
    const prepared = await prepareInput({ path: sb.file('in.csv'), template: TEMPLATE, idField: 'id', defaults: { model: 'claude-haiku-4-5', max_tokens: 20 } }, process.stdin);
    const old = newManifest({
      input: prepared,
      inputPath: sb.file('in.csv'),
      template: TEMPLATE,
      idField: 'id',
      defaults: { model: 'claude-haiku-4-5', max_tokens: 20, system: undefined },
      createdBy: 'run',
      selection: 'all',
      output: sb.file('out.jsonl'),
      chunkLimits: { maxRequests: 100_000, maxBytes: 240_000_000 },
    });
    await prepared.dispose();
    old.state = 'processing';
    await saveManifest(sb.env, old);

    const fresh = await runCsv(sb, { fresh: true });
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toContain(`job ${old.id} from an earlier run of this command is still processing`);
    expect(fresh.stderr).toContain(`claw-batch cancel ${old.id}`);
    expect(fresh.stderr).not.toMatch(/re-attaching/);
    expect(manifestOf(sb, old.id).supersededBy).toMatch(/^job_/);
  });
});

describe('which job a rerun resumes or is refused by', () => {
  let sb: Sandbox;
  let recipe: JobRecipe;
  let job: JobManifest;
  beforeAll(async () => {
    sb = await sandbox({});
    writeFileSync(sb.file('in.csv'), 'id,text\na,x\n');
    recipe = { contentHash: 'abc', format: 'csv', defaults: { model: 'm', max_tokens: 20 }, template: 'Say: {{text}}', idField: 'id' };
    job = newManifest({
      input: { displayName: 'in.csv', format: 'csv', count: 1, contentHash: 'abc' },
      inputPath: sb.file('in.csv'),
      template: recipe.template,
      idField: recipe.idField,
      defaults: recipe.defaults,
      createdBy: 'run',
      selection: 'all',
      output: sb.file('out.jsonl'),
      chunkLimits: { maxRequests: 10, maxBytes: 1000 },
    });
    job.state = 'processing';
    await saveManifest(sb.env, job);
  });
  afterAll(() => sb.close());

  it('matches on every flag that changes the requests', async () => {
    const out = sb.file('out.jsonl');
    expect((await findRunJob(sb.env, recipe, out))?.id).toBe(job.id);
    expect((await findActiveJob(sb.env, recipe))?.id).toBe(job.id);
    const others: Partial<JobRecipe>[] = [
      { template: 'Tell: {{text}}' },
      { idField: undefined },
      { format: 'jsonl' },
      { defaults: { model: 'other', max_tokens: 20 } },
      { defaults: { model: 'm', max_tokens: 21 } },
      { defaults: { model: 'm', max_tokens: 20, system: 'Be brief' } },
    ];
    for (const change of others) {
      expect(await findRunJob(sb.env, { ...recipe, ...change }, out)).toBeUndefined();
      expect(await findActiveJob(sb.env, { ...recipe, ...change })).toBeUndefined();
    }
  });
});
