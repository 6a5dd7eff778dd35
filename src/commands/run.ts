/**
 * `claw-batch run`: validate the whole input, choose real-time or the Batches API (or take the
 * forced mode), then process every item to the end and write one result line per item.
 * `runJob` is the job itself — stopped by an AbortSignal, telling an event sink, never touching
 * the process; `run` is the command: it turns Ctrl-C / SIGTERM into that signal.
 */
import { resolve } from 'node:path';
import type { CommandContext, InputFlags } from './context.js';
import { inputSpec } from './prepare-input.js';
import { prepareInput } from '../input/index.js';
import type { JobControl } from '../job-events.js';
import { onStopSignals } from '../stop-signal.js';
import { baseUrlFromEnv } from '../base-url.js';
import { defaultIntervalSeconds } from '../batch/poller.js';
import { loadSettings } from '../config.js';
import { ExitCode, StoppedError, UsageError } from '../errors.js';
import { sharedLimitsSource } from '../limits/open-store.js';
import { lockOutput, type OutputLock } from '../output/output-lock.js';
import { refuseOutputOverInput } from '../output/index.js';
import { choosePlan, formatPlan, planObject, type Plan } from '../plan/index.js';
import { cutOverAt, parseDeadline } from '../plan/deadline.js';
import { formatDuration } from '../plan/format-plan.js';
import { totalCounts, type MessageBatch } from '../batch/poller.js';
import { pendingWork } from './resume-state.js';
import { planInput } from '../plan/plan-input.js';
import { runRealtimeJob } from '../realtime/run-realtime-job.js';
import { costMeter } from '../plan/cost.js';
import { EventLog, newRunId } from '../report/event-log.js';
import { checkBatchMaxCost, checkRealtimeMaxCost, realtimeSpendCap } from './max-cost.js';

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
  /** `--deadline DURATION|TIME`, as given. */
  deadline?: string;
  /** `--max-cost USD`. */
  maxCost?: number;
  /** `--shared-limits local|off|redis://…`. */
  sharedLimits?: string;
  maxAttempts?: number;
  fresh?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  json?: boolean;
  /** `--report FILE`: write the run's HTML report there at the end. */
  report?: string;
}

/**
 * The command: the first Ctrl-C / SIGTERM aborts the job's signal (it stops taking items, says so,
 * and ends with exit 3); before anything is sent there is nothing to finish, so it exits at once
 * (3); a second one exits at once too (src/stop-signal.ts).
 */
export async function run(options: RunOptions, ctx: CommandContext): Promise<number> {
  let sending = false;
  const stop = onStopSignals(ctx.stderr, (sig) => {
    if (sending) return;
    ctx.stderr.write(`claw-batch: ${sig}: stopped before anything was sent\n`);
    process.exit(ExitCode.stopped);
  });
  try {
    return await runJob(options, ctx, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'started') sending = true;
      },
    });
  } finally {
    stop.dispose();
  }
}

/**
 * The job `run` runs, for the command and the library alike: the exit code (0, 1), or a typed
 * error (exit 2 before anything is sent; StoppedError, 3, when stopped early). Writes only to
 * `ctx`'s streams, and installs nothing on the process.
 */
export async function runJob(options: RunOptions, ctx: CommandContext, control: JobControl = {}): Promise<number> {
  const settings = await loadSettings(
    {
      model: options.model,
      maxTokens: options.maxTokens,
      system: options.system,
      schema: options.schema,
      rpm: options.rpm,
      itpm: options.itpm,
      otpm: options.otpm,
      concurrency: options.concurrency,
      delayMs: options.delayMs,
      maxAttempts: options.maxAttempts,
      mode: options.mode,
      maxCostUsd: options.maxCost,
      sharedLimits: options.sharedLimits,
    },
    { env: ctx.env, cwd: ctx.cwd, configPath: options.config },
  );
  const deadline = options.deadline === undefined ? undefined : parseDeadline(options.deadline);
  if (deadline !== undefined && settings.mode === 'batch') {
    // The Batches API alone promises nothing before 24 h: a deadline needs the freedom to cut over.
    throw new UsageError(
      `--deadline needs auto mode (the default) or --realtime: the mode here is the Batches API alone (${options.mode === 'batch' ? '--batch-api or --mode batch' : ctx.env.CLAW_BATCH_MODE ? 'CLAW_BATCH_MODE' : 'mode: batch in the config'}), which could not keep it; drop one of them`,
    );
  }
  baseUrlFromEnv(ctx.env); // a malformed ANTHROPIC_BASE_URL fails now, not after reading the whole input
  defaultIntervalSeconds(ctx.env); // and a bad CLAW_BATCH_POLL_INTERVAL_S, not after a batch is submitted
  const prepared = await prepareInput(inputSpec(options, settings, ctx), ctx.stdin);
  let lock: OutputLock | undefined;
  try {
    // Before anything is touched, and in both modes: --fresh would truncate the input.
    refuseOutputOverInput(options.output === undefined ? undefined : resolve(ctx.cwd, options.output), prepared, options.output);
    // Cron overlap: one run at a time per results file (a dry run writes nothing, so needs none).
    if (options.output !== undefined && !options.dryRun) lock = lockOutput(resolve(ctx.cwd, options.output));
    // A rerun plans for what is still pending, not for every item of the input.
    const pending = await pendingWork(prepared, options.output, { fresh: Boolean(options.fresh), cwd: ctx.cwd });
    const plan = choosePlan({
      ...(await planInput(pending, settings, ctx.env, { urgent: Boolean(options.urgent), mode: settings.mode })),
      deadline: deadline === undefined ? undefined : { at: deadline, now: Date.now() },
    });
    // --max-cost refusals come before anything is sent, and a dry run shows them too.
    const include = (id: string) => !pending.isDone(id);
    if (plan.mode === 'batch') await checkBatchMaxCost(prepared, settings, include);
    else await checkRealtimeMaxCost(prepared, settings, include);
    if (options.json && options.dryRun) {
      ctx.stderr.write(`${JSON.stringify({ ...planObject(plan), pending: pending.count, dry_run: true })}\n`);
      return ExitCode.ok;
    }
    // --json keeps stderr to the one summary object; --quiet keeps it to errors.
    const say = (line: string) => {
      if (!options.quiet && !options.json) ctx.stderr.write(`${line}\n`);
    };
    for (const line of formatPlan(plan)) say(line);
    if (pending.alreadyDone > 0) say(`  resume: ${pending.alreadyDone} of ${prepared.count} items already succeeded in ${options.output}; the plan counts the ${pending.count} left`);
    if (plan.deadlineMissed && settings.mode === 'auto' && !options.urgent) {
      throw new UsageError(`${plan.deadlineMissed}; nothing was sent — give a later deadline, higher limits (--rpm/--itpm/--otpm), or --realtime to run as fast as the limits allow anyway`);
    }
    if (plan.deadlineMissed) say(`warning: ${plan.deadlineMissed}; running as fast as the limits allow`);
    if (options.dryRun) {
      if (!options.quiet) ctx.stderr.write('dry run: nothing was sent\n');
      return ExitCode.ok;
    }
    const cost = costMeter({ prices: settings.prices });
    const startedAt = Date.now();
    // Every run keeps an event log in the state dir, for `claw-batch report` (and --report).
    const events = new EventLog(
      ctx.env,
      {
        id: newRunId(new Date(startedAt)),
        command: 'run',
        mode: plan.mode,
        startedAt,
        output: options.output === undefined ? null : resolve(ctx.cwd, options.output),
        input: prepared.displayName,
        items: prepared.count,
        plan: planObject(plan),
      },
      { spentUsd: () => cost.spentUsd(), onBroken: (m) => say(`warning: ${m}`) },
    );
    const reportTo = options.report === undefined ? undefined : resolve(ctx.cwd, options.report);
    // Aborted while the input was read and the plan made: nothing to stop, nothing was sent.
    if (control.signal?.aborted) throw new StoppedError('interrupted', 'stopped before anything was sent');
    control.onEvent?.({ type: 'started', mode: plan.mode === 'batch' ? 'batch' : 'realtime', total: prepared.count, pending: pending.count, alreadyDone: pending.alreadyDone });
    const realtime = (alreadyDone: number, fresh: boolean, since?: number) =>
      runRealtimeJob({
        control,
        startedAt: since,
        cost,
        spend: realtimeSpendCap(prepared, settings, cost),
        prepared,
        settings,
        output: options.output,
        fresh,
        quiet: Boolean(options.quiet),
        json: Boolean(options.json),
        sharedLimitsSource: sharedLimitsSource(settings),
        alreadyDone,
        events,
        reportTo,
        ctx,
      });
    if (plan.mode !== 'batch') return await realtime(pending.alreadyDone, Boolean(options.fresh));

    const cutOver = plan.cutOver;
    // What the batch had not processed at the last poll: the cut-over time follows it.
    let unresolved = pending.count;
    // The Batches API's modules load only for a job that goes there.
    const { runBatchJob } = await import('../batch/run-batch-job.js');
    const batch = await runBatchJob({
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
      cutOver:
        cutOver &&
        ((batches) => {
          unresolved = totalCounts(batches).processing;
          return cutOverReason(cutOver, batches);
        }),
      pollBy: cutOver && (() => cutOverAt(cutOver.deadline, unresolved, cutOver.msPerItem)),
      finishInRealtime: Boolean(cutOver),
      events,
      reportTo,
      control,
    });
    if (!cutOver || batch.unresolved === 0) return batch.code;
    // The batch has ended (canceled at the cut-over, or with items expired or errored): what it did
    // not finish goes out in real time, each item once, with the time that is left.
    say(`deadline: ${batch.unresolved} item(s) the Batches API did not finish go out in real time now (${formatDuration((cutOver.deadline - Date.now()) / 1000)} left)`);
    events.startPhase(`real time: the ${batch.unresolved} item(s) the Batches API did not finish`);
    return await realtime(prepared.count - batch.unresolved, false, startedAt);
  } finally {
    lock?.release();
    await prepared.dispose();
  }
}

/** Why the batch is canceled now, once the cut-over time for what it has not processed has come. */
function cutOverReason(cutOver: NonNullable<Plan['cutOver']>, batches: MessageBatch[]): string | undefined {
  const unresolved = totalCounts(batches).processing;
  const at = cutOverAt(cutOver.deadline, unresolved, cutOver.msPerItem);
  if (Date.now() < at) return undefined;
  return `deadline: the Batches API has ${unresolved} request(s) still processing and real time needs about ${formatDuration((unresolved * cutOver.msPerItem) / 1000)} for them; canceling the batch, keeping what it finished`;
}
