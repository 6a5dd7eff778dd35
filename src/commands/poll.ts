/**
 * `claw-batch poll ID`: report each batch's status; once all have ended, write the results to
 * `-o` (or stdout) — each custom_id exactly once, so polling again adds nothing — and exit 0 if
 * every item succeeded, else 1. Still processing: exit 75 (or, with `--wait`, keep polling).
 */
import { resolve } from 'node:path';
import type { CommandContext } from './context.js';
import { createClient } from '../client.js';
import { loadSettings } from '../config.js';
import { costMeter } from '../plan/cost.js';
import { ExitCode, StillProcessingError, StoppedError } from '../errors.js';
import { fileIdentity, openResults, refuseOutputOverInput } from '../output/index.js';
import { createProgress } from '../ui/index.js';
import { downloadResults, failedCount, formatTally, statsOf, tallyWarnings, waitWithProgress } from '../batch/follow-job.js';
import { EventLog, writeReport } from '../report/index.js';
import type { CostMeter } from '../ui/index.js';
import { batchesToRead } from '../batch/jobs.js';
import { saveManifest } from '../batch/manifest.js';
import { allEnded, defaultIntervalSeconds, formatBatchLine, recordStatus, retrieveBatches, totalCounts } from '../batch/poller.js';
import { onStopSignals } from '../stop-signal.js';
import { resolveTarget } from '../batch/target.js';
import { describeError } from '../batch/transient.js';
import { queueHasRoom } from '../batch/submitter.js';
import { submitRestOf } from './submit-rest.js';

export interface PollOptions {
  /** A claw-batch job id or a `msgbatch_…` id. */
  id: string;
  output?: string;
  wait?: boolean;
  /** Seconds between polls to start with (grows ×1.5 up to 60). Default 10 (`CLAW_BATCH_POLL_INTERVAL_S`). */
  interval?: number;
  quiet?: boolean;
  json?: boolean;
  /** `--report FILE`: once the job has ended and its results are written, its HTML report goes there. */
  report?: string;
}

export async function poll(options: PollOptions, ctx: CommandContext): Promise<number> {
  const env = ctx.env;
  if (options.wait && options.interval === undefined) defaultIntervalSeconds(env); // a bad value: exit 2 now
  const target = await resolveTarget(env, options.id);
  const { manifest } = target;
  const client = createClient({}, env);
  const progress = createProgress({ stderr: ctx.stderr, env, quiet: options.quiet || options.json, label: target.label });
  // --json keeps stderr to the one JSON object; --quiet keeps it to errors.
  const say = (line: string) => {
    if (!options.quiet && !options.json) ctx.stderr.write(`${line}\n`);
  };
  const total = manifest
    ? manifest.batches.filter((b) => !target.only || b.id === target.only).reduce((n, b) => n + b.count, 0)
    : 0;
  let cost: CostMeter | undefined;
  // A claw-batch job's event log (submit began it): every poll adds the batches' counts.
  const events = manifest
    ? EventLog.forJob(
        env,
        { id: manifest.id, command: 'poll', mode: 'batch', startedAt: Date.parse(manifest.createdAt), output: manifest.output ?? null, input: manifest.input.displayName, items: manifest.items },
        { spentUsd: () => cost?.spentUsd() ?? 0, onBroken: (m) => progress.warn(m) },
      )
    : undefined;
  if (options.report && !manifest) say(`warning: --report needs a claw-batch job id (${options.id} has no event log here); no report is written`);

  try {
    let batches = await retrieveBatches(client, target.batchIds, {
      onRetry: (err, attempt) => progress.warn(`polling failed (${describeError(err)}); retrying (attempt ${attempt + 1})`),
    });
    if (manifest) {
      recordStatus(manifest, batches);
      await saveManifest(env, manifest);
    }
    for (const b of batches) say(formatBatchLine(b));
    events?.batchProgress(totalCounts(batches));
    events?.sample(statsOf(batches, total, Date.now()));
    // A job the full processing queue left part-submitted: the rest is created here, as it has room.
    const queued = manifest && !target.only && manifest.state === 'submitting' && manifest.queueFull ? manifest : undefined;
    const submitRest = queued && (() => submitRestOf(queued, client, ctx, { info: (m) => progress.info(m) }));
    if (submitRest && queueHasRoom(queued)) {
      const before = queued.batches.length;
      await submitRest();
      if (queued.batches.length > before) batches = await retrieveBatches(client, queued.batches.map((b) => b.id));
    } else if (manifest?.state === 'submitting' && !queued) {
      say(`warning: job ${manifest.id} is not fully submitted (${manifest.batches.length} batches exist); rerun its submit to create the rest`);
    }
    const moreToCome = () => queued?.state === 'submitting';

    if (!allEnded(batches) || moreToCome()) {
      const ended = batches.filter((b) => b.processing_status === 'ended').length;
      if (!options.wait) {
        events?.flushNow();
        if (options.json) ctx.stderr.write(`${JSON.stringify(statusObject(target.label, batches, 'processing'))}\n`);
        // Still processing is the expected answer most of the time in cron: --quiet says nothing.
        if (options.quiet || options.json) return ExitCode.stillProcessing;
        const rest = moreToCome() ? '; the rest of the job is created once the processing queue has room' : '';
        throw new StillProcessingError(`${target.label}: ${ended} of ${batches.length} batches ended${rest}; still processing; poll again later`);
      }
      const stop = onStopSignals(ctx.stderr, (sig) => progress.warn(`${sig}: no longer waiting; the batches keep running on the API`));
      try {
        batches = await waitWithProgress({
          client,
          env,
          manifest,
          batchIds: target.batchIds,
          total: queued?.selection === 'all' ? queued.input.count : total || totalCounts(batches).processing,
          submitRest,
          intervalSeconds: options.interval ?? defaultIntervalSeconds(env),
          progress,
          signal: stop.signal,
          pollFirst: false,
          events,
        });
      } catch (err) {
        if (err instanceof StoppedError && err.reason === 'interrupted') {
          throw new StoppedError('interrupted', `${err.message}; poll ${target.label} again to pick up its results`, { cause: err });
        }
        throw err;
      } finally {
        stop.dispose();
      }
      progress.stop();
      for (const b of batches) say(formatBatchLine(b));
    }

    const output = options.output === undefined ? undefined : resolve(ctx.cwd, options.output);
    if (manifest && manifest.input.path !== '-') {
      refuseOutputOverInput(output, { displayName: manifest.input.displayName, identity: fileIdentity(manifest.input.path) }, options.output);
    }
    // 'all': every line already in the file is final, so polling again writes nothing twice. A retry
    // job is polled into its parent's output: there its fresh results replace the failed lines.
    const keep = manifest?.selection === 'retry-failed' ? 'succeeded' : 'all';
    const { writer, existing } = await openResults(output, { keep, stdout: ctx.stdout });
    let tally;
    // What the job cost, from the usage of every result the API returned for it (also those an
    // earlier poll wrote: a second poll reports the same job's cost).
    const settings = await loadSettings({}, { env, cwd: ctx.cwd });
    cost = costMeter({ prices: settings.prices });
    try {
      try {
        tally = await downloadResults({
          client,
          batches: manifest ? await batchesToRead(env, manifest, target.only) : target.batchIds.map((id) => ({ id })),
          sink: writer,
          existing: existing.byId,
          progress,
          schema: manifest?.defaults.schema,
          onResult: (r) => {
            if (r.result.type === 'succeeded') cost!.add(r.result.message.model, r.result.message.usage, { batch: true });
          },
        });
      } finally {
        await writer.close();
      }
    } catch (err) {
      if (err instanceof StoppedError && err.reason === 'output') {
        throw new StoppedError('output', `${err.message}, then poll ${target.label} again to write the rest`, { cause: err });
      }
      throw err;
    }
    if (writer.readerGone) {
      // `poll ID | head`: the results did not all reach anyone, so the job is not marked written.
      throw new StoppedError('output', `the program reading the results has exited; poll ${target.label} again for them (with -o FILE to keep them)`);
    }
    // A job whose submit stopped midway stays `submitting`, so rerunning that submit still finishes it.
    if (manifest && !target.only && manifest.state !== 'submitting') {
      manifest.state = 'written';
      manifest.resultsWrittenTo = output ?? 'stdout';
      await saveManifest(env, manifest);
    }
    const where = output ? options.output : 'stdout';
    say(`${target.label}: ended — ${formatTally(tally)}; ${tally.written} new line(s) written to ${where}`);
    const costText = cost.line();
    if (costText) say(`cost: ${costText.text}`);
    for (const warning of tallyWarnings(tally)) say(warning);
    if (events) {
      const stats = statsOf(batches, total, Date.now());
      events.close(stats, { mode: 'batch', job: manifest!.id, results: tally, cost_usd: costText?.usd ?? null });
      if (options.report) {
        const { path } = await writeReport(events.path, resolve(ctx.cwd, options.report));
        say(`report: ${path}`);
      }
    }
    if (options.json) {
      const object = { ...statusObject(target.label, batches, 'ended'), results: tally, cost_usd: costText?.usd ?? null, cost_other_way_usd: costText?.otherWayUsd ?? null };
      ctx.stderr.write(`${JSON.stringify(object)}\n`);
    }
    return failedCount(tally) > 0 ? ExitCode.someErrored : ExitCode.ok;
  } finally {
    progress.stop();
  }
}

function statusObject(label: string, batches: Awaited<ReturnType<typeof retrieveBatches>>, state: string) {
  return {
    id: label,
    state,
    batches: batches.map((b) => ({ id: b.id, status: b.processing_status, counts: b.request_counts })),
    counts: totalCounts(batches),
  };
}
