/**
 * Which event log `claw-batch report` draws: the one of a run or job id, the newest one whose
 * results went to a given file, or (no argument) the newest of all.
 */
import { open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { eventLogPath, runsDir, type EventLogHeader } from './event-log.js';

const SUFFIX = '.events.jsonl';

export async function findEventLog(env: NodeJS.ProcessEnv, cwd: string, target: string | undefined): Promise<string> {
  const dir = runsDir(env);
  // Ids sort by start time, so the newest is last.
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SUFFIX)).sort();
  if (target === undefined) {
    const newest = names[names.length - 1];
    if (!newest) throw new UsageError(`no run has left an event log in ${dir} yet; run a job first`);
    return join(dir, newest);
  }
  if (/^(run|job)_[0-9]{8}_[0-9]{6}_[0-9a-f]+$/.test(target)) {
    if (names.includes(`${target}${SUFFIX}`)) return eventLogPath(env, target);
    throw new UsageError(`no event log for ${target} in ${dir} (claw-batch list shows the jobs; runs before this version kept none)`);
  }
  const output = resolve(cwd, target);
  for (const name of names.reverse()) {
    const header = await readHeader(join(dir, name));
    if (header?.output === output) return join(dir, name);
  }
  throw new UsageError(`no run in ${dir} wrote its results to ${target}; give a run or job id, or the -o file of a run`);
}

/** The first line only: a log can be megabytes. */
async function readHeader(path: string): Promise<EventLogHeader | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const buf = Buffer.alloc(16_384);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    const first = buf.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0]!;
    const rec = JSON.parse(first) as EventLogHeader;
    return rec.kind === 'header' ? rec : undefined;
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
