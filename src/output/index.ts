/**
 * Results output: the append-only JSONL writer and the resume index.
 *
 * Opening a results file repairs what a crash can leave behind (a torn last line), compacts what the
 * mode says is not final, and reports which custom_ids are already done, so a rerun skips them and
 * every item ends as exactly one line.
 */
import { closeSync, mkdirSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { diskProblem } from '../disk-error.js';
import { StoppedError, UsageError } from '../errors.js';
import { compactResultFile } from './compaction.js';
import { scanResultFile, type KeepMode } from './resume-index.js';
import type { ExistingResults, ResultType } from './result-types.js';
import { fileResultWriter, streamResultWriter, type ResultWriter } from './result-writer.js';

export type { ExistingResults, ResultType } from './result-types.js';
export type { ResultWriter } from './result-writer.js';
export type { KeepMode } from './resume-index.js';
export { fileIdentity, refuseOutputOverInput, type InputFile } from './output-is-input.js';

export interface OpenResultsOptions {
  /** Truncate the file and start over (`--fresh`). Default false. */
  fresh?: boolean;
  /**
   * 'succeeded' (run): non-succeeded lines are removed so their items are retried and each id ends
   * exactly once. 'all' (poll): every existing line is final; only a torn last line and duplicate
   * ids are removed.
   */
  keep: KeepMode;
  /** Where results go when `path` is undefined. Default: process.stdout. */
  stdout?: NodeJS.WritableStream;
}

/** Opens `path` (or stdout when undefined) for appending results, after repairing and compacting it. */
export async function openResults(
  path: string | undefined,
  opts: OpenResultsOptions,
): Promise<{ writer: ResultWriter; existing: ExistingResults }> {
  const existing: ExistingResults = { byId: new Map(), dropped: 0, repairedTornLine: false };
  if (path === undefined) return { writer: streamResultWriter(opts.stdout ?? process.stdout), existing };

  const size = prepareLocation(path);
  if (size > 0 && !opts.fresh) {
    const scan = await scanResultFile(path, opts.keep);
    existing.byId = scan.byId;
    existing.dropped = scan.dropLines.length;
    existing.repairedTornLine = scan.tornAt !== undefined;
    const end = scan.tornAt ?? size;
    await rewriting(path, async () => {
      if (scan.dropLines.length > 0) {
        await compactResultFile(path, scan.dropLines, end);
      } else {
        if (scan.tornAt !== undefined) truncateSync(path, scan.tornAt);
        // A whole last line missing only its '\n' is kept; the next append must not join onto it.
        if (scan.missingFinalNewline) appendNewline(path);
      }
    });
  }
  const fd = guard(path, () => openSync(path, opts.fresh ? 'w' : 'a'));
  return { writer: fileResultWriter(path, fd), existing };
}

/**
 * The custom_ids that already have a line in `path` and of what type, without touching the file
 * (a plan counts what is still pending before anything is opened for writing). Empty when the file
 * does not exist yet.
 */
export async function peekResults(path: string, keep: KeepMode): Promise<Map<string, ResultType>> {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info || !info.isFile() || info.size === 0) return new Map();
  return (await scanResultFile(path, keep)).byId;
}

/** Creates the parent directories; returns the file's size (0 when it does not exist yet). */
function prepareLocation(path: string): number {
  guard(path, () => mkdirSync(dirname(path), { recursive: true }));
  const info = guard(path, () => statSync(path, { throwIfNoEntry: false }));
  if (info === undefined) return 0;
  if (!info.isFile()) throw new UsageError(`cannot write results to ${path}: it is not a regular file`);
  return info.size;
}

function appendNewline(path: string): void {
  const fd = guard(path, () => openSync(path, 'a'));
  try {
    writeSync(fd, '\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * Repairing or compacting the file before a resume. The compaction writes a temp copy and renames
 * it over the file only once complete, so a full disk leaves the file as it was: that is a stop
 * (exit 3, rerun when there is room), any other filesystem refusal a usage error (exit 2).
 */
async function rewriting(path: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const why = diskProblem(err);
    if (why) {
      throw new StoppedError('output', `cannot rewrite ${path} to resume: ${why}; ${path} is unchanged — free some space, then rerun the same command`, {
        cause: err,
      });
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string') throw new UsageError(`cannot write results to ${path}: ${e.message}`);
    throw err;
  }
}

/** Turns a filesystem failure (permission, read-only, a file where a directory should be) into one sentence. */
function guard<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = diskProblem(err);
    if (why) throw new StoppedError('output', `cannot write results to ${path}: ${why} — free some space, then rerun the same command`, { cause: err });
    if (typeof e.code === 'string') throw new UsageError(`cannot write results to ${path}: ${e.message}`);
    throw err;
  }
}
