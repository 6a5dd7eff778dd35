/**
 * An output that is the input: `run items.jsonl --fresh -o items.jsonl` would truncate the input
 * before a single result is written, and without `--fresh` the input's lines would be taken for
 * damaged results. The same file can be reached by another spelling of the path, a symlink or a
 * hard link, so it is compared by device and inode, not by name.
 */
import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';

export interface InputFile {
  /** What messages call the input. */
  displayName: string;
  /** The input's device and inode; undefined when it is not a regular file (nothing to protect). */
  identity: { dev: number; ino: number } | undefined;
}

/**
 * Throws UsageError (exit 2) when `output` is the same file as the input. Touches nothing.
 * `shownAs`: the output as the user typed it, for the message (default: `output`).
 */
export function refuseOutputOverInput(output: string | undefined, input: InputFile, shownAs = output): void {
  if (output === undefined || input.identity === undefined) return;
  let info;
  try {
    info = statSync(output, { throwIfNoEntry: false });
  } catch {
    return; // Not reachable: opening it for results reports why.
  }
  if (!info || info.dev !== input.identity.dev || info.ino !== input.identity.ino) return;
  const how = input.displayName === '<stdin>' ? 'the file stdin is redirected from' : `the input, ${input.displayName}`;
  throw new UsageError(
    `-o ${shownAs} is ${how} (the same file${shownAs === input.displayName ? '' : ', under another name or through a link'}); writing results there would destroy the input — give another -o`,
  );
}

/** The device and inode of the regular file at `path`, if there is one. */
export function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info?.isFile() ? { dev: info.dev, ino: info.ino } : undefined;
  } catch {
    return undefined;
  }
}
