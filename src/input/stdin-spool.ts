/**
 * stdin (and a FIFO, a pipe: src/input/input-source.ts) can be read only once, but an input is read
 * twice: once to validate all of it before anything is sent, then again to send it. So such an
 * input is first copied to a temp file. The copy holds
 * the user's prompts, so it is removed however the process ends (a second Ctrl-C exits at once).
 */
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface Spool {
  file: string;
  /** Removes the temp file and its directory; safe to call twice. */
  dispose(): Promise<void>;
}

export async function spoolToTempFile(input: NodeJS.ReadableStream): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'claw-batch-stdin-'));
  const file = join(dir, 'input');
  const removeNow = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeNow);
  const dispose = async () => {
    process.off('exit', removeNow);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await pipeline(input, createWriteStream(file));
  } catch (err) {
    await dispose();
    throw err;
  }
  return { file, dispose };
}
