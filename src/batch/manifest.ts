/**
 * The job manifest: everything needed to find a job's batches again after the process is gone —
 * for `poll` from cron, for a `run` that re-attaches after being killed, for `--retry-failed`.
 * Stored as `<state dir>/jobs/<job-id>.json`, rewritten atomically (temp file + rename) after every
 * batch is created, so a crash leaves either the old manifest or the new one, never half of one.
 * Each batch's custom_ids live beside it in `<job-id>/batch-<n>.ids` (one a line): written once,
 * and kept out of the manifest so rewriting it stays cheap for a job of millions of items. Items
 * whose answers follow a schema of their own (not the job's) have it in `batch-<n>.schemas.json`,
 * so their results are checked against it when they are written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { shortened } from '../quote.js';
import { stateDir } from '../state-dir.js';
import type { JsonSchema } from '../structured/schema.js';
import { writeAtomic } from '../write-atomic.js';

/** Where the state dir comes from, to name it when it cannot be used. */
function stateDirSource(env: NodeJS.ProcessEnv): string {
  if (env.CLAW_BATCH_STATE_DIR) return `CLAW_BATCH_STATE_DIR (${env.CLAW_BATCH_STATE_DIR})`;
  if (env.XDG_STATE_HOME) return `the state dir $XDG_STATE_HOME/claw-batch (${stateDir(env)})`;
  return `the state dir ~/.local/state/claw-batch (${stateDir(env)})`;
}

const PATH_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'part of the path is a file, not a directory',
  EEXIST: 'a file is in the way of a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ELOOP: 'the path loops through symbolic links',
  ENAMETOOLONG: 'the path is too long',
  ENOSPC: 'the disk is full',
};

/**
 * A file-system failure under the state dir as a UsageError naming where the dir comes from, so a
 * bad CLAW_BATCH_STATE_DIR reads as a setting to fix rather than an internal error.
 */
function stateDirError(env: NodeJS.ProcessEnv, err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const problem = code ? PATH_PROBLEMS[code] : undefined;
  if (!problem) return err;
  return new UsageError(`${stateDirSource(env)} cannot hold the job manifests: ${path}: ${problem} (${code}); point CLAW_BATCH_STATE_DIR at a writable directory`);
}

/** Runs a file-system step under the state dir, turning a path problem into a UsageError. */
async function inStateDir<T>(env: NodeJS.ProcessEnv, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw stateDirError(env, err, path);
  }
}

export interface BatchRecord {
  /** `msgbatch_…` */
  id: string;
  /** Position of the chunk in the job (0-based); chunks are deterministic for the same input. */
  index: number;
  /** Requests in the batch. */
  count: number;
  /** Serialized size of the create body, bytes. */
  bytes: number;
  firstCustomId: string;
  lastCustomId: string;
  createdAt: string;
  /** Last status seen by poll/cancel. */
  status?: 'in_progress' | 'canceling' | 'ended';
  counts?: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  endedAt?: string;
  /**
   * Found among the account's batches rather than created by this job's own call: a create whose
   * answer was lost (a 500, a dropped connection, a kill) had made it after all. See `adoptLostBatch`.
   */
  adopted?: boolean;
}

/**
 * - submitting: not every batch is created yet (rerunning the same submit finishes it)
 * - processing: every batch created, not all ended
 * - ended: every batch ended; results not yet written
 * - written: results written (to `resultsWrittenTo`)
 */
export type JobState = 'submitting' | 'processing' | 'ended' | 'written';

export interface JobManifest {
  version: 1;
  id: string;
  createdAt: string;
  updatedAt: string;
  state: JobState;
  /** Which command made it: a `run` job is the one a rerun of the same `run` re-attaches to. */
  createdBy: 'submit' | 'run';
  input: {
    /** Absolute path, or `-` for an input read only once (stdin, a FIFO, `<(...)`), which --retry-failed cannot re-read. */
    path: string;
    displayName: string;
    format: 'jsonl' | 'csv';
    /** sha256 hex of the input bytes. */
    contentHash: string;
    /** Items in the input (the job may send fewer: see `selection`). */
    count: number;
    template?: string;
    idField?: string;
  };
  /** The flag/config defaults filled into items that lacked them, so a retry builds the same params. */
  defaults: { model?: string; max_tokens?: number; system?: string; schema?: Record<string, unknown> };
  /**
   * all: every input item; remaining: those without a succeeded result in `output` (run resume);
   * retry-failed: those whose results in `parentJob` were errored, expired or canceled.
   */
  selection: 'all' | 'remaining' | 'retry-failed';
  parentJob?: string;
  /** Items this job sends (known once submission is complete; a running total before). */
  items: number;
  /** Items of the input left out by `selection`. */
  excluded: number;
  /** Absolute output path of the `run` that made this job (undefined: stdout). */
  output?: string;
  chunkLimits: { maxRequests: number; maxBytes: number };
  batches: BatchRecord[];
  canceledAt?: string;
  resultsWrittenTo?: string;
  lastError?: string;
  /**
   * Set just before a batch create is sent and cleared once its batch is recorded. Still set when
   * the job is looked at again means the create's outcome is unknown (a 500, a dropped connection,
   * a kill): the batch may exist, so the account's batches are searched before creating it again.
   */
  pendingCreate?: { index: number; count: number; sentAt: string };
  /**
   * Set while the job is `submitting` because the Batches API's processing queue was full: batch
   * `nextBatch` (0-based) was refused with a 429 while `queued` of the job's requests were in the
   * queue. The rest is created once some of them have ended, or at `retryAt` (see `queueHasRoom`).
   */
  queueFull?: { at: string; retryAt: string; nextBatch: number; queued: number; message: string };
  /** A `run --fresh` started this job over: a rerun of that `run` does not re-attach to this one. */
  supersededBy?: string;
}

export function jobsDir(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'jobs');
}

export function manifestPath(env: NodeJS.ProcessEnv, jobId: string): string {
  return join(jobsDir(env), `${jobId}.json`);
}

export function idsPath(env: NodeJS.ProcessEnv, jobId: string, index: number): string {
  return join(jobsDir(env), jobId, `batch-${String(index).padStart(4, '0')}.ids`);
}

function schemasPath(env: NodeJS.ProcessEnv, jobId: string, index: number): string {
  return idsPath(env, jobId, index).replace(/\.ids$/, '.schemas.json');
}

/** On disk: each distinct schema once, and for each item the index of its schema (null: none). */
interface SchemasFile {
  schemas: JsonSchema[];
  items: Record<string, number | null>;
}

/** Records the items of one batch whose answers follow their own schema (nothing when there are none). */
export async function saveBatchSchemas(env: NodeJS.ProcessEnv, jobId: string, index: number, own: Map<string, JsonSchema | null>): Promise<void> {
  if (own.size === 0) return;
  const file: SchemasFile = { schemas: [], items: {} };
  const position = new Map<JsonSchema, number>();
  for (const [id, schema] of own) {
    if (schema === null) {
      file.items[id] = null;
      continue;
    }
    let at = position.get(schema);
    if (at === undefined) {
      at = file.schemas.push(schema) - 1;
      position.set(schema, at);
    }
    file.items[id] = at;
  }
  const path = schemasPath(env, jobId, index);
  await inStateDir(env, path, async () => {
    await mkdir(join(jobsDir(env), jobId), { recursive: true });
    await writeAtomic(path, `${JSON.stringify(file)}\n`);
  });
}

/** The items of one batch with a schema of their own (empty when none, or the file is gone). */
export async function loadBatchSchemas(env: NodeJS.ProcessEnv, jobId: string, index: number): Promise<Map<string, JsonSchema | null>> {
  const path = schemasPath(env, jobId, index);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw stateDirError(env, err, path);
  }
  const file = JSON.parse(text) as SchemasFile;
  return new Map(Object.entries(file.items).map(([id, at]) => [id, at === null ? null : file.schemas[at]!]));
}

/** `job_20261128_141500_a3f9`: sortable by creation time (UTC), unique enough for one machine. */
export function newJobId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
  return `job_${stamp}_${randomBytes(2).toString('hex')}`;
}

export function isJobId(id: string): boolean {
  return /^job_\d{8}_\d{6}_[0-9a-f]{4}$/.test(id);
}

export async function saveManifest(env: NodeJS.ProcessEnv, manifest: JobManifest): Promise<void> {
  const path = manifestPath(env, manifest.id);
  manifest.updatedAt = new Date().toISOString();
  await inStateDir(env, path, async () => {
    await mkdir(jobsDir(env), { recursive: true });
    await writeAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  });
}

export async function saveBatchIds(env: NodeJS.ProcessEnv, jobId: string, index: number, ids: string[]): Promise<void> {
  const path = idsPath(env, jobId, index);
  await inStateDir(env, path, async () => {
    await mkdir(join(jobsDir(env), jobId), { recursive: true });
    await writeAtomic(path, `${ids.join('\n')}\n`);
  });
}

/** The custom_ids of one batch; undefined when the file is gone (the manifest still works without it). */
export async function loadBatchIds(env: NodeJS.ProcessEnv, jobId: string, index: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(idsPath(env, jobId, index), 'utf8');
    return text.split('\n').filter((l) => l !== '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stateDirError(env, err, idsPath(env, jobId, index));
  }
}

export async function loadManifest(env: NodeJS.ProcessEnv, jobId: string): Promise<JobManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath(env, jobId), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') {
      throw new UsageError(`no job ${shortened(jobId)} in ${jobsDir(env)}; \`claw-batch list\` shows the jobs`);
    }
    throw stateDirError(env, err, manifestPath(env, jobId));
  }
  try {
    return JSON.parse(text) as JobManifest;
  } catch {
    throw new UsageError(`${manifestPath(env, jobId)}: not a readable job manifest`);
  }
}

/** Every local job, newest first. Unreadable files are skipped (a stray temp file, a foreign file). */
export async function listManifests(env: NodeJS.ProcessEnv): Promise<JobManifest[]> {
  let names: string[];
  try {
    names = await readdir(jobsDir(env));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw stateDirError(env, err, jobsDir(env));
  }
  const out: JobManifest[] = [];
  for (const name of names.filter((n) => /^job_.*\.json$/.test(n)).sort().reverse()) {
    try {
      const m = JSON.parse(await readFile(join(jobsDir(env), name), 'utf8')) as JobManifest;
      if (m && m.version === 1 && Array.isArray(m.batches)) out.push(m);
    } catch {
      // not ours, or being replaced right now: skip
    }
  }
  return out;
}

/** The local job that holds `batchId`, if any. */
export async function findJobOfBatch(env: NodeJS.ProcessEnv, batchId: string): Promise<JobManifest | undefined> {
  return (await listManifests(env)).find((m) => m.batches.some((b) => b.id === batchId));
}

/** Batches still running, or not all created yet. */
export function isActive(m: JobManifest): boolean {
  return m.state === 'submitting' || m.state === 'processing';
}
