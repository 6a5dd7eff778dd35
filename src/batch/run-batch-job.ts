/**
 * `run` in batch mode: submit (or re-attach to the job an interrupted run left), wait with
 * progress, write the results to the same output and with the same exit codes as real-time.
 * Re-attach: a rerun of the same `run` — same input content read the same way (format, template,
 * id field), same defaults, same absolute output — finds the unfinished job through its manifest and
 * waits on it instead of paying for it again. `--fresh` starts a new job and says that the old one
 * keeps running (and how to cancel it); a later rerun re-attaches to the new one.
 */
import { resolve } from 'node:path';
import { NEVER, onAbort, stopName, withEvents, type JobControl, type JobSummary } from '../job-events.js';
import { itemDefaults, rateLimitWaitLimitMs, type Settings } from '../config.js';
import { ExitCode, StoppedError } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { openResults } from '../output/index.js';
import type { EventLog } from '../report/event-log.js';
import { finishRunLog } from '../report/finish-run.js';
import { createProgress, plural, summaryObject, writeSummary, type CostMeter } from '../ui/index.js';
import { emptyStats } from '../ui/stats.js';
import { chunkLimitsFromEnv } from './chunking.js';
import { downloadResults, failedCount, tallyWarnings, waitWithProgress, type FollowOptions } from './follow-job.js';
import { batchesToRead, findActiveJob, findRunJob, newManifest, type JobRecipe } from './jobs.js';
import { isActive, saveManifest, type JobManifest } from './manifest.js';
import { defaultIntervalSeconds } from './poller.js';
import { submitJob } from './submitter.js';

/** What a batch run needs from the process (a CommandContext has all of it). */
export interface BatchRunContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface BatchJobRun {
  prepared: PreparedInput;
  settings: Settings;
  /** `--template` as given: recorded in the job, so a rerun and `--retry-failed` build the same requests. */
  template?: string;
  /** `--id-field` as given, recorded likewise. (The format is `prepared.format`.) */
  idField?: string;
  /** -o path; undefined = stdout. */
  output?: string;
  fresh: boolean;
  quiet: boolean;
  json: boolean;
  ctx: BatchRunContext;
  /** Counts the spend from each result's usage (at the Batches API's half price), for the summary. */
  cost?: CostMeter;
  /** `--deadline`: asked after each poll whether to cancel the batches now (see FollowOptions). */
  cutOver?: FollowOptions['cutOver'];
  /** `--deadline`: when the next poll must come by. */
  pollBy?: FollowOptions['pollBy'];
  /**
   * The caller finishes what the batches did not in real time (`--deadline`): when some items did
   * not succeed, no summary is printed here and the count comes back in `unresolved`.
   */
  finishInRealtime?: boolean;
  /** Default: env CLAW_BATCH_POLL_INTERVAL_S, else 10; grows ×1.5 up to 60 while waiting. */
  pollIntervalSeconds?: number;
  /** The run's event log; closed here with the summary (unless the rest goes out in real time). */
  events?: EventLog;
  /** `--report FILE` (absolute): the HTML report is written there at the end. */
  reportTo?: string;
  /** The stop signal (the CLI aborts it on Ctrl-C) and the event sink (src/job-events.ts). */
  control?: JobControl;
}

export interface BatchJobOutcome {
  /** 0 all succeeded, 1 some not. */
  code: number;
  /** Items without a succeeded result (errored, expired, canceled). */
  unresolved: number;
}

/** Throws StoppedError when its signal aborts (the job keeps running; a rerun re-attaches). */
export async function runBatchJob(run: BatchJobRun): Promise<BatchJobOutcome> {
  const { prepared, settings, ctx } = run;
  const env = ctx.env;
  const output = run.output === undefined ? undefined : resolve(ctx.cwd, run.output);
  // The SDK (hundreds of modules) loads once the input has been checked and the plan made.
  const { createClient } = await import('../client.js');
  const client = createClient({}, env);
  const control = run.control ?? {};
  const signal = control.signal ?? NEVER;
  const progress = withEvents(createProgress({ stderr: ctx.stderr, env, quiet: run.quiet || run.json, label: 'batch' }), control.onEvent);
  // Once the batches have ended, their results are written to the end (a second Ctrl-C exits at once).
  let writing = false;
  const stopListening = onAbort(signal, () =>
    progress.warn(
      writing
        ? `${stopName(signal)}: the batches have ended; writing their results first`
        : `${stopName(signal)}: no longer waiting; the batches keep running on the API`,
    ),
  );
  const { writer, existing } = await openResults(output, { fresh: run.fresh, keep: 'succeeded', stdout: ctx.stdout });
  const startedAt = Date.now();
  try {
    const recipe: JobRecipe = {
      contentHash: prepared.contentHash,
      format: prepared.format,
      defaults: itemDefaults(settings),
      template: run.template,
      idField: run.idField,
    };
    const previous = await findRunJob(env, recipe, output);
    let manifest = run.fresh ? undefined : previous;
    // A `submit` of the same requests still running: wait on it rather than pay for them twice.
    const submitted =
      manifest || run.fresh || existing.byId.size > 0 ? undefined : await findActiveJob(env, recipe);
    if (submitted && submitted.selection === 'all' && submitted.state !== 'submitting') {
      manifest = submitted;
      progress.info(`job ${submitted.id} (from submit) is already processing the same requests; waiting on it instead of paying again`);
    } else if (manifest) {
      progress.info(`re-attaching to job ${manifest.id} (${plural(manifest.batches.length, 'batch', 'batches')}, ${manifest.state}) instead of submitting again`);
    }
    if (!manifest) {
      if (existing.byId.size > 0) progress.info(`resuming: items already succeeded in ${run.output} are not sent again`);
      manifest = newManifest({
        input: prepared,
        inputPath: prepared.readOnce ? '-' : resolve(ctx.cwd, prepared.displayName),
        template: run.template,
        idField: run.idField,
        defaults: recipe.defaults,
        createdBy: 'run',
        selection: existing.byId.size > 0 ? 'remaining' : 'all',
        output,
        chunkLimits: chunkLimitsFromEnv(env),
      });
    }
    const job = manifest;
    if (previous && previous !== job) {
      // The new job is on disk before the old one points at it.
      await saveManifest(env, job);
      await supersede(previous, job.id);
    }

    const done = existing.byId;
    // Creates the job's batches that do not exist yet; with the processing queue full, what fits
    // now, the rest at later polls as batches end (see submitRest below).
    const submitMore = () =>
      submitJob({
        client,
        env,
        manifest: job,
        items: prepared.items(),
        include: job.selection === 'remaining' ? (id) => done.get(id) !== 'succeeded' : undefined,
        info: (m) => progress.info(m),
        signal,
        maxRateLimitWaitMs: rateLimitWaitLimitMs(settings),
        deferWhenQueueFull: true,
      }).then(
        () => {
          if (job.state === 'submitting') return;
          progress.info(`job ${job.id}: ${plural(job.items, 'item')} in ${plural(job.batches.length, 'batch', 'batches')} submitted`);
          run.events?.mark(`job ${job.id}: ${plural(job.items, 'item')} submitted to the Batches API`);
        },
        (err: unknown) => {
          if (err instanceof StoppedError && err.reason === 'interrupted') throw reattachHint(err, job.id, run.output);
          throw err;
        },
      );
    if (job.state === 'submitting') {
      await submitMore();
      if (job.batches.length === 0) {
        progress.info(`every item already succeeded in ${run.output ?? 'the output'}; nothing to send`);
        return { code: await finish(ExitCode.ok), unresolved: 0 };
      }
    }

    await waitWithProgress({
      client,
      env,
      manifest: job,
      batchIds: job.batches.map((b) => b.id),
      total: job.state === 'submitting' ? Math.max(job.items, prepared.count - done.size) : job.items,
      submitRest: submitMore,
      intervalSeconds: run.pollIntervalSeconds ?? defaultIntervalSeconds(env),
      progress,
      signal,
      cutOver: run.cutOver,
      pollBy: run.pollBy,
      events: run.events,
    }).catch((err: unknown) => {
      if (err instanceof StoppedError && err.reason === 'interrupted') throw reattachHint(err, job.id, run.output);
      throw err;
    });
    writing = true;

    const stats = emptyStats(prepared.count);
    stats.startedAt = startedAt;
    const tally = await downloadResults({
      client,
      batches: await batchesToRead(env, job),
      sink: writer,
      existing: existing.byId,
      progress,
      schema: job.defaults.schema,
      onLine: (_line, r) => {
        // The API's answer, also one that failed the schema: it is paid for either way.
        if (r.result.type !== 'succeeded') return;
        const usage = r.result.message.usage;
        run.cost?.add(r.result.message.model, usage, { batch: true });
        stats.cacheWriteTokens += usage.cache_creation_input_tokens ?? 0;
        stats.cacheReadTokens += usage.cache_read_input_tokens ?? 0;
        stats.inputTokens += usage.input_tokens;
        stats.outputTokens += usage.output_tokens;
      },
    })
      .then(async (t) => {
        await writer.close();
        return t;
      })
      .catch((err: unknown) => {
        // A full disk: the job has ended on the API and keeps its results; a rerun re-attaches and writes the rest.
        if (err instanceof StoppedError && err.reason === 'output') {
          throw new StoppedError('output', `${err.message}, then rerun the same command: it re-attaches to job ${job.id} and writes the rest`, { cause: err });
        }
        throw err;
      });
    for (const warning of tallyWarnings(tally)) progress.warn(warning);
    if (writer.readerGone) {
      throw new StoppedError(
        'output',
        `the program reading the results has exited; job ${job.id} has ended and keeps them — \`claw-batch poll ${job.id} -o FILE\` writes them`,
      );
    }
    job.state = 'written';
    job.resultsWrittenTo = output ?? 'stdout';
    await saveManifest(env, job);

    stats.skipped = job.excluded;
    stats.succeeded = tally.succeeded + job.excluded;
    stats.errored = failedCount(tally);
    stats.done = stats.succeeded + stats.errored;
    stats.requestsSent = job.items;
    if (run.finishInRealtime && stats.errored > 0) {
      progress.stop();
      return { code: ExitCode.someErrored, unresolved: stats.errored };
    }
    return { code: await finish(stats.errored > 0 ? ExitCode.someErrored : ExitCode.ok, stats, job.id), unresolved: stats.errored };
  } finally {
    stopListening();
    progress.stop();
    await writer.close();
  }

  /**
   * `--fresh` over the job an earlier run of this command left: the new job starts over, and the
   * old one is marked so no rerun re-attaches to it. Its batches are not canceled (they may be
   * nearly done, and they are paid for); if still running, say so and how to stop them.
   */
  async function supersede(old: JobManifest, newId: string): Promise<void> {
    old.supersededBy = newId;
    await saveManifest(env, old);
    if (isActive(old)) {
      progress.warn(
        `--fresh: starting over as job ${newId}; job ${old.id} from an earlier run of this command is still ${old.state === 'submitting' ? 'being submitted' : 'processing'} on the API and is not canceled — \`claw-batch cancel ${old.id}\` stops it`,
      );
    }
  }

  async function finish(code: number, stats = emptyStats(prepared.count), jobId?: string): Promise<number> {
    progress.stop();
    if (stats.done === 0 && code === ExitCode.ok) {
      stats.done = stats.succeeded = stats.skipped = prepared.count;
    }
    const timing = { wallMs: Date.now() - startedAt, cost: run.cost?.line() };
    const fields = { mode: 'batch' as const, job: jobId ?? null };
    const summary = { ...fields, ...summaryObject(stats, timing) } satisfies JobSummary;
    const note = await finishRunLog(run.events, stats, summary, run.reportTo, (m) => progress.warn(m));
    writeSummary(ctx.stderr, env, stats, {
      ...timing,
      json: run.json,
      quiet: run.quiet,
      batch: true,
      report: note?.text,
      fields: note ? { ...fields, report: note.report ?? null, events_log: note.events } : fields,
    });
    control.onEvent?.({ type: 'finished', exitCode: code as 0 | 1, summary });
    return code;
  }
}

function reattachHint(err: StoppedError, jobId: string, output: string | undefined): StoppedError {
  const poll = `claw-batch poll ${jobId} --wait${output ? ` -o ${output}` : ''}`;
  return new StoppedError(
    'interrupted',
    `${err.message}; job ${jobId} keeps running on the API — rerun the same command to re-attach to it, or \`${poll}\``,
    { cause: err },
  );
}
