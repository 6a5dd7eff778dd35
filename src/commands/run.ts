/**
 * `claw-batch run`: validate the whole input, choose real-time or the Batches API (or take the
 * forced mode), then process every item to the end and write one result line per item.
 */
import { resolve } from 'node:path';
import type { CommandContext, InputFlags } from './context.js';
import { prepareFromFlags } from './prepare-input.js';
import { baseUrlFromEnv } from '../base-url.js';
import { loadSettings, type Settings } from '../config.js';
import { ExitCode } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { MemoryStore } from '../limits/memory-store.js';
import { refuseOutputOverInput } from '../output/index.js';
import { choosePlan, formatPlan, planObject, type Plan } from '../plan/index.js';
import { planInput } from '../plan/plan-input.js';
import { runBatchJob } from '../batch/run-batch-job.js';
import { runRealtimeJob } from '../realtime/run-realtime-job.js';
import { costMeter } from '../plan/cost.js';
import { checkBatchMaxCost, realtimeSpendCap } from './max-cost.js';

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
  /** `--max-cost USD`. */
  maxCost?: number;
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
      maxCostUsd: options.maxCost,
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
    const cost = costMeter({ prices: settings.prices });
    if (plan.mode === 'batch') {
      await checkBatchMaxCost(prepared, settings);
      return await runBatchJob({
        cost,
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
    const spend = realtimeSpendCap(prepared, settings, cost);
    return await runRealtimeJob({
      cost,
      spend,
      prepared,
      settings,
      output: options.output,
      fresh: Boolean(options.fresh),
      quiet: Boolean(options.quiet),
      json: Boolean(options.json),
      store: new MemoryStore(),
      ctx,
    });
  } finally {
    await prepared.dispose();
  }
}

async function planRun(prepared: PreparedInput, settings: Settings, options: RunOptions, ctx: CommandContext): Promise<Plan> {
  return choosePlan(await planInput(prepared, settings, ctx.env, { urgent: Boolean(options.urgent), mode: settings.mode }));
}
