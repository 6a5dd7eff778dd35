/**
 * `runJob({ input, output, ... })`: what `claw-batch run` runs — the same input checks, plan,
 * pacing, resume and result file — in the caller's process, with progress as events instead of a
 * display, stopped by an AbortSignal instead of Ctrl-C. Nothing is installed on the process (no
 * signal handler, no exit) and nothing is printed unless `log` is given.
 */
import { Readable, Writable } from 'node:stream';
import type { CommandContext } from '../commands/context.js';
import { runJob as runCommandJob, type RunOptions } from '../commands/run.js';
import { parseConcurrency } from '../config.js';
import { InvalidOptionError, StoppedError } from '../errors.js';
import type { JobEvent, JobEventSink, JobSummary } from '../job-events.js';
import { parseChoice, parseNonNegativeNumber, parsePositiveInt, parsePositiveNumber, parseSharedLimits } from '../options.js';
import { AbortedError } from './errors.js';

/**
 * The options of `claw-batch run`, as `runJob` takes them: each as its flag (`rpm` is `--rpm`,
 * `maxCost` is `--max-cost` …; docs/library.md lists them), `input` and `output` as files.
 */
export interface RunJobOptions extends Omit<RunOptions, 'input' | 'output' | 'quiet' | 'json' | 'dryRun'> {
  /** The input: a JSONL or CSV file (DESIGN.md's formats), relative to `cwd`. */
  input: string;
  /**
   * The results file (JSONL, the Message Batches result shape), relative to `cwd`. Rerunning with
   * the same one resumes: items already succeeded there are not sent again.
   */
  output: string;
  /** Default: `env.ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** Default: `env.ANTHROPIC_BASE_URL`, else the API's. */
  baseURL?: string;
  /** The state directory (learned limits, the local store, job manifests, event logs). Default: as the CLI resolves it. */
  stateDir?: string;
  /** Where settings come from (`CLAW_BATCH_*`, the key). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** What relative paths are relative to. Default `process.cwd()`. */
  cwd?: string;
  /**
   * Stops the job: no new item is taken; real time: requests in flight get `stop_grace_ms` (10 s)
   * to finish, then stay pending; batch: the wait ends and the batches keep running on the API.
   * `runJob` then resolves with `status: 'stopped'`; the same call again resumes.
   */
  signal?: AbortSignal;
  /** Told of the job as it goes: started, progress, paused, notice, finished. */
  onEvent?: JobEventSink;
  /** Where the CLI's progress lines and summary would go (a plain, non-TTY log). Default: nowhere. */
  log?: NodeJS.WritableStream;
}

export interface JobResult {
  /** `succeeded`: every item succeeded; `some-errored`: done, some items' results are errors; `stopped`: not every item is done. */
  status: 'succeeded' | 'some-errored' | 'stopped';
  /** What `claw-batch run` would exit with: 0, 1 or 3. */
  exitCode: 0 | 1 | 3;
  /** The `--json` summary's numbers; absent when a Batches API wait was stopped (the job runs on; a rerun re-attaches). */
  summary?: JobSummary;
  /** Why it stopped (`reason`: `interrupted` for the signal, `auth`, `spend-limit`, `max-cost` …). */
  stopped?: StoppedError;
}

const STATUS = { 0: 'succeeded', 1: 'some-errored', 3: 'stopped' } as const;

/**
 * Runs the job to its end. Resolves once it has run (every item done, or stopped: see `status`);
 * rejects before anything is sent with the CLI's exit-2 errors (InputError naming the file and
 * line, UsageError, ConfigError, InvalidOptionError, MissingApiKeyError), or AbortedError when
 * the signal fired before sending began.
 */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const { flags, ctx } = resolveRunJob(options);
  let finished: Extract<JobEvent, { type: 'finished' }> | undefined;
  let started = false;
  const onEvent: JobEventSink = (event) => {
    if (event.type === 'started') started = true;
    if (event.type === 'finished') finished = event;
    options.onEvent?.(event);
  };
  try {
    const code = await runCommandJob(flags, ctx, { signal: options.signal, onEvent });
    const exitCode = (finished?.exitCode ?? code) as 0 | 1;
    return { status: STATUS[exitCode], exitCode, summary: finished?.summary };
  } catch (err) {
    if (err instanceof StoppedError && started) return { status: 'stopped', exitCode: 3, summary: finished?.summary, stopped: err };
    if (!started && options.signal?.aborted) throw new AbortedError('the job was aborted before anything was sent');
    throw err;
  }
}

/** The command's options and context from the library's, every value checked at once. */
function resolveRunJob(options: RunJobOptions): { flags: RunOptions; ctx: CommandContext } {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object with input and output');
  for (const key of ['input', 'output'] as const) {
    const value = options[key];
    if (typeof value !== 'string' || value === '' || value === '-') throw new InvalidOptionError(key, value, 'a file path');
  }
  const env = { ...(options.env ?? process.env) };
  if (options.apiKey !== undefined) env.ANTHROPIC_API_KEY = options.apiKey;
  if (options.baseURL !== undefined) env.ANTHROPIC_BASE_URL = options.baseURL;
  if (options.stateDir !== undefined) env.CLAW_BATCH_STATE_DIR = options.stateDir;
  const flags: RunOptions = {
    input: options.input,
    output: options.output,
    format: parseChoice('format', options.format, ['jsonl', 'csv'] as const),
    model: options.model,
    maxTokens: parsePositiveInt('maxTokens', options.maxTokens),
    system: options.system,
    schema: options.schema,
    template: options.template,
    idField: options.idField,
    config: options.config,
    rpm: parsePositiveNumber('rpm', options.rpm),
    itpm: parsePositiveNumber('itpm', options.itpm),
    otpm: parsePositiveNumber('otpm', options.otpm),
    concurrency: parseConcurrency('concurrency', options.concurrency),
    delayMs: parseNonNegativeNumber('delayMs', options.delayMs),
    mode: parseChoice('mode', options.mode, ['auto', 'realtime', 'batch'] as const),
    urgent: Boolean(options.urgent),
    deadline: options.deadline,
    maxCost: parsePositiveNumber('maxCost', options.maxCost),
    sharedLimits: parseSharedLimits('sharedLimits', options.sharedLimits),
    maxAttempts: parsePositiveInt('maxAttempts', options.maxAttempts),
    fresh: Boolean(options.fresh),
    report: options.report,
    // Nothing to print to: the display stays off, and the log gets plain lines.
    quiet: options.log === undefined,
  };
  const ctx: CommandContext = {
    stdout: nowhere(),
    stderr: options.log ?? nowhere(),
    // The input is a file: stdin is never read.
    stdin: Readable.from([]),
    env,
    cwd: options.cwd ?? process.cwd(),
  };
  return { flags, ctx };
}

function nowhere(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
