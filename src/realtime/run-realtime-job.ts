/**
 * `run` in real-time mode: open the results (resume), set up the account's budgets on the chosen
 * limit store, run the scheduler with progress, remember what the API reported, print the summary,
 * and end with the same exit codes as batch mode. Its signal (the CLI aborts it on Ctrl-C) stops
 * taking items; requests in flight get a grace period, then stay pending; the summary still prints
 * and the exit code is 3.
 */
import { rateLimitWaitLimitMs, type Settings } from '../config.js';
import { ExitCode, StoppedError } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { AccountBudget } from '../limits/account-budget.js';
import { accountFingerprint, normalizeBaseUrl } from '../limits/account-key.js';
import { readKeyLink, readLearnedLimits, saveKeyLink, saveLearnedLimits, type LearnedClass } from '../limits/learned-limits.js';
import type { LimitStore } from '../limits/limit-store.js';
import { openLimitStore } from '../limits/open-store.js';
import { modelClass } from '../limits/model-class.js';
import { openResults } from '../output/index.js';
import { stateDir } from '../state-dir.js';
import { byProcessSignal, NEVER, onAbort, stopName, withEvents, type JobControl, type JobSummary } from '../job-events.js';
import type { EventLog } from '../report/event-log.js';
import { finishRunLog } from '../report/finish-run.js';
import { createProgress, formatDuration, summaryObject, writeSummary, type CostMeter } from '../ui/index.js';
import { runRealtime, type RealtimeOutcome } from './scheduler.js';
import type { SpendCap } from './spend-cap.js';

/** What a real-time run needs from the process (a CommandContext has all of it). */
export interface RealtimeRunContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export interface RealtimeJobRun {
  prepared: PreparedInput;
  settings: Settings;
  /** -o path; undefined = stdout. */
  output?: string;
  fresh: boolean;
  quiet: boolean;
  json: boolean;
  /**
   * Where the budgets live: opened here from `settings.sharedLimits` (a store that cannot be reached
   * now is exit 2, before anything is sent), or given (tests), and closed here either way.
   */
  store?: LimitStore;
  /** What `settings.sharedLimits` came from, for messages (`--shared-limits`, the env, the config). */
  sharedLimitsSource?: string;
  /** Counts the spend from each answer's usage, for the summary. */
  cost?: CostMeter;
  /** `--max-cost`. */
  spend?: SpendCap;
  /** Items of the input already succeeded in the output (counted as skipped from the start). */
  alreadyDone?: number;
  /** The run's event log (the command starts it); closed here with the summary. */
  events?: EventLog;
  /** `--report FILE`: the HTML report is written there at the end (absolute path). */
  reportTo?: string;
  /** When the run began, for the summary's time: after a deadline's cut-over, the batch's start. Default now. */
  startedAt?: number;
  ctx: RealtimeRunContext;
  /** The stop signal and the event sink (src/job-events.ts). */
  control?: JobControl;
}

export async function runRealtimeJob(job: RealtimeJobRun): Promise<number> {
  const { prepared, settings, ctx } = job;
  // The SDK (hundreds of modules) loads once the input has been checked and the plan made.
  const { createClient } = await import('../client.js');
  const client = createClient({}, ctx.env);
  // Notices from the store (it went away, it is back) wait for the progress display to exist.
  let notice: (message: string) => void = (m) => ctx.stderr.write(`claw-batch: ${m}\n`);
  const store =
    job.store ??
    (await openLimitStore({
      sharedLimits: settings.sharedLimits,
      source: job.sharedLimitsSource,
      stateDir: stateDir(ctx.env),
      onNotice: (m) => notice(m),
    }));
  const baseURL = normalizeBaseUrl(ctx.env.ANTHROPIC_BASE_URL);
  const keyId = accountFingerprint(client.apiKey ?? '', baseURL);
  const dir = stateDir(ctx.env);
  // The organization an earlier run saw this key belong to: its budget and learned limits from the start.
  const link = await readKeyLink(dir, keyId);
  const known = await readLearnedLimits(dir, link?.account ?? keyId);
  const budget = new AccountBudget({
    store,
    keyId,
    baseURL,
    link,
    given: { all: { rpm: settings.rpm, itpm: settings.itpm, otpm: settings.otpm }, byClass: settings.classLimits },
    known,
    maxWaitMs: rateLimitWaitLimitMs(settings),
    command: 'run',
  });
  const { writer, existing } = await openResults(job.output, { fresh: job.fresh, keep: 'succeeded', stdout: ctx.stdout });
  const control = job.control ?? {};
  const signal = control.signal ?? NEVER;
  const progress = withEvents(createProgress({ stderr: ctx.stderr, env: ctx.env, quiet: job.quiet || job.json, label: 'realtime' }), control.onEvent);
  notice = (m) => progress.warn(m);
  if (existing.byId.size > 0) {
    progress.info(`resuming: ${existing.byId.size} item(s) already succeeded in ${job.output}; retrying the rest`);
  }
  if (existing.repairedTornLine) progress.warn(`repaired a partial last line in ${job.output} (left by an interrupted run)`);
  const grace = formatDuration(settings.stopGraceMs);
  const stopListening = onAbort(signal, () =>
    progress.warn(`${stopName(signal)}: taking no new items; requests in flight get ${grace} to finish, then stay pending${byProcessSignal(signal) ? ' (Ctrl-C again to exit at once)' : ''}`),
  );
  const sendingFrom = Date.now();
  const startedAt = job.startedAt ?? sendingFrom;
  let outcome: RealtimeOutcome | undefined;
  try {
    await budget.prepare(prepared.models);
    outcome = await runRealtime({
      client,
      account: budget,
      items: prepared.items(),
      total: prepared.count,
      modelClasses: new Set(prepared.models.map(modelClass)).size,
      isDone: (id) => existing.byId.get(id) === 'succeeded',
      alreadyDone: job.alreadyDone,
      writer,
      settings: {
        concurrency: settings.concurrency,
        delayMs: settings.delayMs,
        maxAttempts: settings.maxAttempts,
        rpm: settings.rpm,
        stopGraceMs: settings.stopGraceMs,
        timeouts: { firstByteMs: settings.firstByteTimeoutMs, idleMs: settings.idleTimeoutMs, transport: settings.transport },
      },
      signal,
      onProgress: (stats) => {
        progress.update(stats);
        job.events?.sample(stats);
      },
      onNotice: (message) => progress.warn(message),
      onAnswer: job.cost ? (item, message) => job.cost!.add(item.params.model, message.usage) : undefined,
      spend: job.spend,
      events: job.events,
    });
    progress.stop();
    await writer.close();
    await saveLearnedLimits(dir, budget.account, baseURL, learnedFrom(budget, outcome)).catch(() => undefined);
    if (budget.link) await saveKeyLink(dir, keyId, baseURL, budget.link).catch(() => undefined);
    const timing = { wallMs: Date.now() - startedAt, sendingMs: Date.now() - sendingFrom, cost: job.cost?.line() };
    const fields = { mode: 'realtime' as const, stopped: outcome.stopped?.reason ?? null };
    const summary = { ...fields, ...summaryObject(outcome.stats, timing) } satisfies JobSummary;
    const note = await finishRunLog(job.events, outcome.stats, summary, job.reportTo, (m) => progress.warn(m));
    writeSummary(ctx.stderr, ctx.env, outcome.stats, {
      ...timing,
      json: job.json,
      quiet: job.quiet,
      report: note?.text,
      fields: note ? { ...fields, report: note.report ?? null, events_log: note.events } : fields,
    });
    // Only a run that went through the whole input has seen every id it could skip.
    const foreign = outcome.stopped ? 0 : existing.byId.size - outcome.stats.skipped;
    if (foreign > 0) {
      progress.warn(`${foreign} result line(s) in ${job.output} are for custom_ids that are not in this input (another job's output?)`);
    }
    const pending = outcome.stats.total - outcome.stats.done;
    // Never exit 0 with items still pending, whatever went wrong to get here.
    const stopped =
      outcome.stopped || pending > 0
        ? withResumeHint(outcome.stopped ?? new StoppedError('incomplete', 'the run ended with items not done'), pending, job.output)
        : undefined;
    const exitCode = stopped ? ExitCode.stopped : outcome.stats.errored > 0 ? ExitCode.someErrored : ExitCode.ok;
    control.onEvent?.({ type: 'finished', exitCode, summary, stopped });
    if (stopped) throw stopped;
    return exitCode;
  } finally {
    stopListening();
    progress.stop();
    await budget.close();
    await store.close().catch(() => undefined);
  }
}

/** What to remember per class: the limits the API reported and the mean output seen. */
function learnedFrom(budget: AccountBudget, outcome: RealtimeOutcome): Map<string, LearnedClass> {
  const out = new Map<string, LearnedClass>(budget.reported());
  for (const [cls, outputMean] of outcome.outputMeans) out.set(cls, { ...out.get(cls), outputMean });
  return out;
}

function withResumeHint(stopped: StoppedError, pending: number, output: string | undefined): StoppedError {
  const next = output ? 'rerun the same command to resume' : 'results went to stdout, so a rerun starts over; use -o FILE to be able to resume';
  stopped.message = `${stopped.message}; ${pending} item(s) not done — ${next}`;
  return stopped;
}
