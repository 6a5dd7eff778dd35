/**
 * `claw-batch run`: validate the whole input, choose real-time or the Batches API (or take the
 * forced mode), then process every item to the end and write one result line per item.
 */
import { resolve } from 'node:path';
import type { CommandContext, InputFlags } from './context.js';
import { prepareFromFlags } from './prepare-input.js';
import { baseUrlFromEnv } from '../base-url.js';
import { createClient } from '../client.js';
import { loadSettings, type Settings } from '../config.js';
import { ExitCode, StoppedError } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { openResults, refuseOutputOverInput } from '../output/index.js';
import { choosePlan, formatPlan, planObject, type Plan } from '../plan/index.js';
import { apiBaseUrl, knownLimits } from '../plan/known-limits.js';
import { runBatchJob } from '../batch/run-batch-job.js';
import { saveLearnedLimits } from '../realtime/learned-limits.js';
import { runRealtime } from '../realtime/scheduler.js';
import { stateDir } from '../state-dir.js';
import { onStopSignals } from '../stop-signal.js';
import { createProgress, writeSummary } from '../ui/index.js';

export interface RunOptions extends InputFlags {
  output?: string;
  rpm?: number;
  itpm?: number;
  otpm?: number;
  concurrency?: number;
  delayMs?: number;
  /** `auto` (default), `realtime` or `batch` (`--realtime` / `--batch-api` set these). */
  mode?: 'auto' | 'realtime' | 'batch';
  urgent?: boolean;
  maxAttempts?: number;
  fresh?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export async function run(options: RunOptions, ctx: CommandContext): Promise<number> {
  const settings = await loadSettings(
    {
      model: options.model,
      maxTokens: options.maxTokens,
      system: options.system,
      rpm: options.rpm,
      itpm: options.itpm,
      otpm: options.otpm,
      concurrency: options.concurrency,
      delayMs: options.delayMs,
      maxAttempts: options.maxAttempts,
      mode: options.mode,
    },
    { env: ctx.env, cwd: ctx.cwd, configPath: options.config },
  );
  baseUrlFromEnv(ctx.env); // a malformed ANTHROPIC_BASE_URL fails now, not after reading the whole input
  const prepared = await prepareFromFlags(options, settings, ctx);
  try {
    // Before anything is touched, and in both modes: --fresh would truncate the input.
    refuseOutputOverInput(options.output === undefined ? undefined : resolve(ctx.cwd, options.output), prepared, options.output);
    const plan = await planRun(prepared, settings, options, ctx);
    if (options.json && options.dryRun) {
      ctx.stderr.write(`${JSON.stringify({ ...planObject(plan), dry_run: true })}\n`);
      return ExitCode.ok;
    }
    // --json keeps stderr to the one summary object; --quiet keeps it to errors.
    if (!options.quiet && !options.json) {
      for (const line of formatPlan(plan)) ctx.stderr.write(`${line}\n`);
    }
    if (options.dryRun) {
      if (!options.quiet) ctx.stderr.write('dry run: nothing was sent\n');
      return ExitCode.ok;
    }
    if (plan.mode === 'batch') {
      return await runBatchJob({
        prepared,
        settings,
        template: options.template,
        idField: options.idField,
        output: options.output,
        fresh: Boolean(options.fresh),
        quiet: Boolean(options.quiet),
        json: Boolean(options.json),
        ctx,
      });
    }
    return await runRealtimeMode(prepared, settings, options, ctx);
  } finally {
    await prepared.dispose();
  }
}

async function planRun(prepared: PreparedInput, settings: Settings, options: RunOptions, ctx: CommandContext): Promise<Plan> {
  const known = await knownLimits({ rpm: settings.rpm, itpm: settings.itpm, otpm: settings.otpm }, ctx.env);
  return choosePlan({
    items: prepared.count,
    promptChars: prepared.totalPromptChars,
    maxTokens: prepared.totalMaxTokens,
    models: prepared.models,
    ...known,
    concurrency: settings.concurrency,
    urgent: Boolean(options.urgent),
    mode: settings.mode,
    thresholdMinutes: settings.realtimeThresholdMinutes,
    smallJobItems: settings.smallJobItems,
    priceOverrides: settings.prices,
  });
}

async function runRealtimeMode(prepared: PreparedInput, settings: Settings, options: RunOptions, ctx: CommandContext): Promise<number> {
  const client = createClient({}, ctx.env);
  const { writer, existing } = await openResults(options.output, {
    fresh: options.fresh,
    keep: 'succeeded',
    stdout: ctx.stdout,
  });
  const progress = createProgress({ stderr: ctx.stderr, env: ctx.env, quiet: options.quiet || options.json, label: 'realtime' });
  if (existing.byId.size > 0) {
    progress.info(`resuming: ${existing.byId.size} item(s) already succeeded in ${options.output}; retrying the rest`);
  }
  if (existing.repairedTornLine) progress.warn(`repaired a partial last line in ${options.output} (left by an interrupted run)`);
  const interrupt = onStopSignals(ctx.stderr, (sig) =>
    progress.warn(`${sig}: finishing in-flight requests, taking no new items (Ctrl-C again to exit at once)`),
  );
  const startedAt = Date.now();
  try {
    const outcome = await runRealtime({
      client,
      items: prepared.items(),
      total: prepared.count,
      isDone: (id) => existing.byId.get(id) === 'succeeded',
      writer,
      settings,
      signal: interrupt.signal,
      onProgress: (stats) => progress.update(stats),
      onNotice: (message) => progress.warn(message),
    });
    progress.stop();
    await writer.close();
    await saveLearnedLimits(stateDir(ctx.env), apiBaseUrl(ctx.env), outcome.learned).catch(() => undefined);
    writeSummary(ctx.stderr, ctx.env, outcome.stats, {
      wallMs: Date.now() - startedAt,
      json: options.json,
      quiet: options.quiet,
      fields: { mode: 'realtime', stopped: outcome.stopped?.reason ?? null },
    });
    // Only a run that went through the whole input has seen every id it could skip.
    const foreign = outcome.stopped ? 0 : existing.byId.size - outcome.stats.skipped;
    if (foreign > 0) {
      progress.warn(`${foreign} result line(s) in ${options.output} are for custom_ids that are not in this input (another job's output?)`);
    }
    if (outcome.stopped) {
      const left = outcome.stats.total - outcome.stats.done;
      const next = options.output
        ? 'rerun the same command to resume'
        : 'results went to stdout, so a rerun starts over; use -o FILE to be able to resume';
      outcome.stopped.message = `${outcome.stopped.message}; ${left} item(s) not done — ${next}`;
      throw outcome.stopped;
    }
    const pending = outcome.stats.total - outcome.stats.done;
    if (pending > 0) {
      // The whole input was read and nothing stopped the run, yet items are missing: the input gave
      // fewer items this time than when it was checked. Never exit 0 with items not done.
      throw new StoppedError(
        'incomplete',
        `${prepared.displayName} gave fewer items when read to be sent than the ${prepared.count} it had when checked (was it changed or replaced meanwhile?); ${pending} item(s) not done — rerun the same command to resume`,
      );
    }
    return outcome.stats.errored > 0 ? ExitCode.someErrored : ExitCode.ok;
  } finally {
    interrupt.dispose();
    progress.stop();
  }
}
