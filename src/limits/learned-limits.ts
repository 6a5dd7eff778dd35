/**
 * Remembers the limits the API reported, per account (a fingerprint of the API key and base URL,
 * never the key) and model class, so the next run can plan before it has sent anything and start
 * at the limit instead of finding it again. Stored in the state dir as `learned-limits.json`; a
 * missing or unreadable file just means nothing is known yet. The shared limit stores keep the
 * same for every process that uses them; this file is what survives between runs with any store.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../write-atomic.js';
import type { RateLimits } from './types.js';

/** What an earlier run learned about one model class. */
export interface LearnedClass extends RateLimits {
  /** Mean output tokens per answer it saw (the plan's expected output). */
  outputMean?: number;
}

interface Entry extends LearnedClass {
  account: string;
  modelClass: string;
  /** The API address, for a person reading the file (the fingerprint already covers it). */
  baseURL: string;
  updatedAt: string;
}

type Store = Record<string, Entry>;

const FILE = 'learned-limits.json';

const entryKey = (account: string, modelClass: string) => `${account}:${modelClass}`;

async function readStore(dir: string): Promise<Store> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Store) : {};
  } catch {
    return {};
  }
}

const known = (l: RateLimits) => Boolean(l.rpm || l.itpm || l.otpm);

/** Every model class's learned limits for `account`. */
export async function readLearnedLimits(dir: string, account: string): Promise<Map<string, LearnedClass>> {
  const out = new Map<string, LearnedClass>();
  for (const e of Object.values(await readStore(dir))) {
    if (e?.account !== account || typeof e.modelClass !== 'string') continue;
    const limits: LearnedClass = { rpm: num(e.rpm), itpm: num(e.itpm), otpm: num(e.otpm), outputMean: num(e.outputMean) };
    if (known(limits) || limits.outputMean) out.set(e.modelClass, limits);
  }
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Records what the API reported for each class (a class reported nothing for is left as it was). */
export async function saveLearnedLimits(dir: string, account: string, baseURL: string, byClass: Map<string, LearnedClass>): Promise<void> {
  const changes = [...byClass].filter(([, l]) => known(l) || l.outputMean);
  if (changes.length === 0) return;
  const store = await readStore(dir);
  const updatedAt = new Date().toISOString();
  for (const [modelClass, limits] of changes) {
    const previous = store[entryKey(account, modelClass)];
    store[entryKey(account, modelClass)] = {
      account,
      modelClass,
      baseURL,
      rpm: limits.rpm ?? previous?.rpm,
      itpm: limits.itpm ?? previous?.itpm,
      otpm: limits.otpm ?? previous?.otpm,
      outputMean: limits.outputMean ?? previous?.outputMean,
      updatedAt,
    };
  }
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, FILE), `${JSON.stringify(store, null, 2)}\n`);
}
