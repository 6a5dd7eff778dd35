/**
 * Remembers the limits the API reported, per API base URL, so the next `run --mode auto` can
 * estimate the real-time duration before it has sent anything. Stored in the state dir as
 * `learned-limits.json`; a missing or unreadable file just means nothing is known yet.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeAtomic } from '../write-atomic.js';
import { join } from 'node:path';
import type { RateLimits } from '../ui/stats.js';

type Store = Record<string, RateLimits & { updatedAt: string }>;

const FILE = 'learned-limits.json';

export async function readLearnedLimits(dir: string, baseURL: string): Promise<RateLimits | undefined> {
  try {
    const store = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as Store;
    const entry = store[baseURL];
    if (!entry) return undefined;
    const { rpm, itpm, otpm } = entry;
    return rpm || itpm || otpm ? { rpm, itpm, otpm } : undefined;
  } catch {
    return undefined;
  }
}

export async function saveLearnedLimits(dir: string, baseURL: string, limits: RateLimits): Promise<void> {
  if (!limits.rpm && !limits.itpm && !limits.otpm) return;
  let store: Store = {};
  try {
    store = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as Store;
  } catch {
    // first time, or unreadable: start afresh
  }
  store[baseURL] = { ...limits, updatedAt: new Date().toISOString() };
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, FILE), `${JSON.stringify(store, null, 2)}\n`);
}
