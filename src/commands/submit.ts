/**
 * `claw-batch submit`: validate the input like `run`, create the job's batches, print the job id
 * alone on stdout (so `id=$(claw-batch submit items.jsonl --batch-api)` works in cron). Progress
 * and the job's details go to stderr.
 */
import { resolve } from 'node:path';
import type { CommandContext, InputFlags } from './context.js';
import { inputPath, prepareFromFlags, prepareStoppable } from './prepare-input.js';
import { baseUrlFromEnv } from '../base-url.js';
import { createClient } from '../client.js';
import { itemDefaults, loadSettings, rateLimitWaitLimitMs, type Settings } from '../config.js';
import { ExitCode, UsageError } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { choosePlan, formatPlan, planObject } from '../plan/index.js';
import { planInput } from '../plan/plan-input.js';
import { chunkItems, chunkLimitsFromEnv, type ChunkLimits } from '../batch/chunking.js';
import { failedIdsOf, findActiveJob, findActiveRetry, findIncompleteSubmit, newManifest, requireEnded, type JobRecipe } from '../batch/jobs.js';
import { loadManifest, saveManifest, type JobManifest } from '../batch/manifest.js';
import { EventLog } from '../report/event-log.js';
import { recordStatus, retrieveBatches } from '../batch/poller.js';
import { onStopSignals } from '../stop-signal.js';
import { submitJob } from '../batch/submitter.js';
import { checkBatchMaxCost } from './max-cost.js';

export interface SubmitOptions extends InputFlags {
  dryRun?: boolean;
  /** `--max-cost USD`: refuse to submit a job whose worst case is over it. */
  maxCost?: number;
  /** Submit even though a job for the same input is still active. */
  force?: boolean;
  /** Resend only the errored/expired/canceled items of this job, as a new linked job. */
  retryFailed?: string;
  quiet?: boolean;
  json?: boolean;
}

export async function submit(options: SubmitOptions, ctx: CommandContext): Promise<number> {
  // --json keeps stderr to the one JSON object; --quiet keeps it to errors.
  const say = (line: string) => {
    if (!options.quiet && !options.json) ctx.stderr.write(`${line}\n`);
  };
  if (options.retryFailed) return submitRetry(options.retryFailed, options, ctx, say);

  const settings = await loadSettings(
    { model: options.model, maxTokens: options.maxTokens, system: options.system, schema: options.schema, maxCostUsd: options.maxCost },
    { env: ctx.env, cwd: ctx.cwd, configPath: options.config },
  );
  const defaults = itemDefaults(settings);
  baseUrlFromEnv(ctx.env); // a malformed ANTHROPIC_BASE_URL fails now, not after reading the whole input
  const prepared = await prepareFromFlags(options, settings, ctx);
  try {
    const limits = chunkLimitsFromEnv(ctx.env);
    if (options.dryRun) return await dryRun(prepared, settings, limits, ctx, options);

    const recipe: JobRecipe = {
      contentHash: prepared.contentHash,
      format: prepared.format,
      defaults,
      template: options.template,
      idField: options.idField,
    };
    let manifest = options.force ? undefined : await findIncompleteSubmit(ctx.env, recipe);
    if (manifest) {
      say(`finishing job ${manifest.id}: ${manifest.batches.length} of its batches already exist and are not sent again`);
    } else {
      const active = options.force ? undefined : await findActiveJob(ctx.env, recipe);
      if (active) {
        throw new UsageError(
          `job ${active.id} for the same input and flags (${active.input.displayName}) is still ${active.state === 'submitting' ? 'being submitted' : 'processing'}; \`claw-batch poll ${active.id}\` follows it, or pass --force to submit again`,
        );
      }
      manifest = newManifest({
        input: prepared,
        // An input read once (stdin, a FIFO, `<(...)`) cannot be read again from its path.
        inputPath: prepared.readOnce ? '-' : resolve(ctx.cwd, options.input),
        template: options.template,
        idField: options.idField,
        defaults,
        createdBy: 'submit',
        selection: 'all',
        chunkLimits: limits,
      });
    }
    return await send(manifest, prepared, undefined, settings, options, ctx, say);
  } finally {
    await prepared.dispose();
  }
}

/** Creates the job's batches, then prints the job id (alone on stdout). */
async function send(
  manifest: JobManifest,
  prepared: PreparedInput,
  include: ((id: string) => boolean) | undefined,
  settings: Settings,
  options: SubmitOptions,
  ctx: CommandContext,
  say: (line: string) => void,
): Promise<number> {
  // A job half submitted by an earlier run was checked then; the rest is what it still costs.
  await checkBatchMaxCost(prepared, settings, include);
  const client = createClient({}, ctx.env);
  const stop = onStopSignals(ctx.stderr, (sig) => ctx.stderr.write(`claw-batch: ${sig}: stopping after the batch being created\n`));
  try {
    await submitJob({
      client,
      env: ctx.env,
      manifest,
      items: prepared.items(),
      include,
      info: say,
      signal: stop.signal,
      maxRateLimitWaitMs: rateLimitWaitLimitMs(settings),
      // An input that can be read again: what the full processing queue refuses, poll creates later.
      deferWhenQueueFull: manifest.input.path !== '-',
    });
  } finally {
    stop.dispose();
  }
  const partly = manifest.state === 'submitting';
  say(`job ${manifest.id}: ${manifest.items} items in ${manifest.batches.length} batch(es)${partly ? ' so far' : ''}: ${manifest.batches.map((b) => b.id).join(', ')}`);
  if (partly) {
    say(
      `job ${manifest.id}: the Batches API's processing queue is full; the rest of its ${manifest.input.count} items go in batches that \`claw-batch poll ${manifest.id}\` creates once batches have ended (it re-reads ${manifest.input.displayName}: leave it in place and unchanged)`,
    );
  }
  // The job's event log starts here; each poll adds to it (`claw-batch report JOB` draws it).
  EventLog.forJob(
    ctx.env,
    { id: manifest.id, command: 'submit', mode: 'batch', startedAt: Date.parse(manifest.createdAt), output: manifest.output ?? null, input: manifest.input.displayName, items: manifest.items },
    { onBroken: (m) => say(`warning: ${m}`) },
  ).mark(`job ${manifest.id}: ${manifest.items} items submitted in ${manifest.batches.length} batch(es)`);
  say(`follow it with: claw-batch poll ${manifest.id} -o results.jsonl`);
  if (options.json) {
    const { id, state, items, parentJob } = manifest;
    const summary = { job: id, state, items, parentJob: parentJob ?? null, input: manifest.input.displayName, batches: manifest.batches.map((b) => ({ id: b.id, requests: b.count })) };
    ctx.stderr.write(`${JSON.stringify(summary)}\n`);
  }
  ctx.stdout.write(`${manifest.id}\n`);
  return ExitCode.ok;
}

/** `--dry-run`: the chunks the job would make, the time and cost; nothing is sent. */
async function dryRun(
  prepared: PreparedInput,
  settings: Settings,
  limits: ChunkLimits,
  ctx: CommandContext,
  { json, quiet }: { json?: boolean; quiet?: boolean },
): Promise<number> {
  const plan = choosePlan(await planInput(prepared, settings, ctx.env, { urgent: false, mode: 'batch' }));
  await checkBatchMaxCost(prepared, settings);
  const lines = formatPlan(plan);
  const batches: Array<{ requests: number; first_custom_id: string; last_custom_id: string; bytes: number }> = [];
  for await (const chunk of chunkItems(prepared.items(), limits, undefined, itemDefaults(settings).schema)) {
    const n = chunk.requests.length;
    batches.push({ requests: n, first_custom_id: chunk.firstCustomId, last_custom_id: chunk.lastCustomId, bytes: chunk.bytes });
    lines.push(`  batch ${chunk.index + 1}: ${n} ${n === 1 ? 'request' : 'requests'} (${chunk.firstCustomId} … ${chunk.lastCustomId}), ${(chunk.bytes / 1e6).toFixed(1)} MB`);
  }
  lines.push(`dry run: ${prepared.count} ${prepared.count === 1 ? 'item' : 'items'} validated; nothing was sent`);
  if (json) ctx.stderr.write(`${JSON.stringify({ ...planObject(plan), items: prepared.count, batches, dry_run: true })}\n`);
  else if (!quiet) ctx.stderr.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

/** `--retry-failed JOB`: a new job, linked to JOB, of the items whose results were not `succeeded`. */
async function submitRetry(parentId: string, options: SubmitOptions, ctx: CommandContext, say: (line: string) => void): Promise<number> {
  const env = ctx.env;
  // Read first, so a bad config fails before the API is asked; the items are built as the parent's were.
  const settings = await loadSettings({ maxCostUsd: options.maxCost }, { env, cwd: ctx.cwd, configPath: options.config });
  const parent = await loadManifest(env, parentId);
  const path = options.input ? inputPath(options.input, ctx) : parent.input.path;
  if (path === '-' && !options.input) {
    const from = parent.input.displayName === '<stdin>' ? 'stdin' : `${parent.input.displayName}, which can be read only once`;
    throw new UsageError(
      `job ${parent.id} read its input from ${from}; give the same input again: \`claw-batch submit - --retry-failed ${parent.id}\` with it on stdin, or name a file holding it`,
    );
  }
  const client = createClient({}, env);
  if (parent.state !== 'submitting') {
    recordStatus(parent, await retrieveBatches(client, parent.batches.map((b) => b.id)));
    await saveManifest(env, parent);
  }
  requireEnded(parent, 'retry its failed items');

  const prepared = await prepareStoppable(
    { path, format: parent.input.format, template: parent.input.template, idField: parent.input.idField, defaults: parent.defaults },
    ctx,
  );
  try {
    if (prepared.contentHash !== parent.input.contentHash) {
      throw new UsageError(
        `${prepared.displayName} changed since job ${parent.id} was submitted (its content hash differs); --retry-failed resends items of the input as it was — restore it, or submit the new input as a new job`,
      );
    }
    let manifest = await findActiveRetry(env, parent.id);
    if (manifest && manifest.state !== 'submitting' && !options.force) {
      throw new UsageError(`job ${manifest.id} already retries the failed items of ${parent.id} and is still processing; pass --force to retry again`);
    }
    if (manifest?.state !== 'submitting') manifest = undefined;
    const failed = await failedIdsOf(client, env, parent);
    if (failed.size === 0) {
      say(`every item of job ${parent.id} succeeded; nothing to retry`);
      return ExitCode.ok;
    }
    if (manifest) say(`finishing retry job ${manifest.id}: ${manifest.batches.length} of its batches already exist`);
    manifest ??= newManifest({
      input: prepared,
      inputPath: parent.input.path === '-' ? '-' : parent.input.path,
      template: parent.input.template,
      idField: parent.input.idField,
      defaults: parent.defaults,
      createdBy: 'submit',
      selection: 'retry-failed',
      parentJob: parent.id,
      chunkLimits: chunkLimitsFromEnv(env),
    });
    say(`retrying ${failed.size} item(s) of job ${parent.id} that errored, expired or were canceled`);
    return await send(manifest, prepared, (id) => failed.has(id), settings, options, ctx, say);
  } finally {
    await prepared.dispose();
  }
}
