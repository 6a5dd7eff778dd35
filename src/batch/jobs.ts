/**
 * Finding and starting jobs: which existing job a submit resumes or is refused by, which job a
 * rerun of `run` re-attaches to, and which items a `--retry-failed` job resends.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { UsageError } from '../errors.js';
import type { ChunkLimits } from './chunking.js';
import { isActive, listManifests, loadBatchIds, loadBatchSchemas, newJobId, type JobManifest } from './manifest.js';
import { writeResults, type BatchToRead } from './results.js';

/** What a manifest records about the input; PreparedInput has all of it. */
export interface InputIdentity {
  displayName: string;
  format: 'jsonl' | 'csv';
  count: number;
  contentHash: string;
}

export interface NewJobSpec {
  input: InputIdentity;
  /** Absolute path of the input, or `-` for stdin. */
  inputPath: string;
  template?: string;
  idField?: string;
  defaults: JobManifest['defaults'];
  createdBy: JobManifest['createdBy'];
  selection: JobManifest['selection'];
  parentJob?: string;
  output?: string;
  chunkLimits: ChunkLimits;
}

export function newManifest(spec: NewJobSpec): JobManifest {
  const now = new Date();
  return {
    version: 1,
    id: newJobId(now),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    state: 'submitting',
    createdBy: spec.createdBy,
    input: {
      path: spec.inputPath,
      displayName: spec.input.displayName,
      format: spec.input.format,
      contentHash: spec.input.contentHash,
      count: spec.input.count,
      template: spec.template,
      idField: spec.idField,
    },
    defaults: spec.defaults,
    selection: spec.selection,
    parentJob: spec.parentJob,
    items: 0,
    excluded: 0,
    output: spec.output,
    chunkLimits: spec.chunkLimits,
    batches: [],
  };
}

/**
 * Everything that decides the requests built from the input: the content, how it is read (format,
 * CSV template, id field) and the defaults filled in (model, max_tokens, system). A job resumed,
 * re-attached to or refused as a duplicate must match all of it; a `--retry-failed` rebuilds its
 * items from it.
 */
export interface JobRecipe {
  contentHash: string;
  format: 'jsonl' | 'csv';
  defaults: JobManifest['defaults'];
  template?: string;
  idField?: string;
}

function sameRecipe(m: JobManifest, r: JobRecipe): boolean {
  const d = (x: JobManifest['defaults']) => JSON.stringify([x.model ?? null, x.max_tokens ?? null, x.system ?? null]);
  return (
    m.input.contentHash === r.contentHash &&
    m.input.format === r.format &&
    d(m.defaults) === d(r.defaults) &&
    (m.input.template ?? null) === (r.template ?? null) &&
    (m.input.idField ?? null) === (r.idField ?? null)
  );
}

/** A job that sends the same requests and whose batches are still being created or processed. */
export async function findActiveJob(env: NodeJS.ProcessEnv, recipe: JobRecipe): Promise<JobManifest | undefined> {
  return (await listManifests(env)).find((m) => sameRecipe(m, recipe) && isActive(m));
}

/** The unfinished submit of this input (every item) that a rerun of `submit` completes. */
export async function findIncompleteSubmit(env: NodeJS.ProcessEnv, recipe: JobRecipe): Promise<JobManifest | undefined> {
  return (await listManifests(env)).find(
    (m) => m.state === 'submitting' && m.createdBy === 'submit' && m.selection === 'all' && sameRecipe(m, recipe),
  );
}

/**
 * The job a rerun of the same `run --batch-api` re-attaches to: same recipe, same output (both
 * absolute paths, or both stdout), results not written yet, not started over by a `--fresh` run.
 */
export async function findRunJob(env: NodeJS.ProcessEnv, recipe: JobRecipe, output: string | undefined): Promise<JobManifest | undefined> {
  return (await listManifests(env)).find(
    (m) => m.createdBy === 'run' && m.state !== 'written' && !m.supersededBy && sameRecipe(m, recipe) && (m.output ?? null) === (output ?? null),
  );
}

/** The retry job of `parentId` that is not done being created or processed. */
export async function findActiveRetry(env: NodeJS.ProcessEnv, parentId: string): Promise<JobManifest | undefined> {
  return (await listManifests(env)).find((m) => m.parentJob === parentId && m.selection === 'retry-failed' && isActive(m));
}

/** The custom_ids of every batch of the job, read from the sidecar files. */
export async function batchesToRead(env: NodeJS.ProcessEnv, manifest: JobManifest, only?: string) {
  const out: BatchToRead[] = [];
  for (const b of manifest.batches) {
    if (only && b.id !== only) continue;
    out.push({ id: b.id, expectedIds: await loadBatchIds(env, manifest.id, b.index), ownSchemas: await loadBatchSchemas(env, manifest.id, b.index) });
  }
  return out;
}

/**
 * The custom_ids of a job whose results were errored, expired or canceled (or never reported),
 * read from the API's results — so it works whether poll wrote them to a file or to stdout.
 */
export async function failedIdsOf(client: Anthropic, env: NodeJS.ProcessEnv, manifest: JobManifest): Promise<Set<string>> {
  const failed = new Set<string>();
  await writeResults({
    client,
    batches: await batchesToRead(env, manifest),
    schema: manifest.defaults.schema,
    sink: {
      write(line) {
        if (line.result.type !== 'succeeded') failed.add(line.custom_id);
      },
    },
  });
  return failed;
}

/** Refuses to go on with a job whose batches have not all been created and ended. */
export function requireEnded(manifest: JobManifest, what: string): void {
  if (manifest.state === 'submitting') {
    throw new UsageError(`job ${manifest.id} is not fully submitted yet; rerun its submit first, then ${what}`);
  }
  if (manifest.batches.some((b) => b.status !== 'ended')) {
    throw new UsageError(`job ${manifest.id} has batches still processing; \`claw-batch poll ${manifest.id} --wait\` first, then ${what}`);
  }
}
