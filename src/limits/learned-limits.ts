/**
 * Remembers the limits the API reported, per account (the organization's; before an answer named
 * one, a fingerprint of the API key and base URL, never the key) and model class, so the next run
 * can plan before it has sent anything and start at the limit instead of finding it again. Stored in the state dir as `learned-limits.json`; a
 * missing or unreadable file just means nothing is known yet. The shared limit stores keep the
 * same for every process that uses them; this file is what survives between runs with any store.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../write-atomic.js';
import type { KeyLink } from './limit-store.js';
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

/**
 * Which organization each key belongs to, as the API's answers named it: `key-links.json` in the
 * state dir, so the next run of a key starts on its organization's budget (and its learned limits)
 * before its first answer. Keyed by the key's fingerprint, never the key.
 */
const LINKS_FILE = 'key-links.json';

interface LinkEntry extends KeyLink {
  baseURL: string;
  updatedAt: string;
}

async function readLinks(dir: string): Promise<Record<string, LinkEntry>> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, LINKS_FILE), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, LinkEntry>) : {};
  } catch {
    return {};
  }
}

/** The organization `keyId` was last seen to belong to, if any. */
export async function readKeyLink(dir: string, keyId: string): Promise<KeyLink | undefined> {
  const e = (await readLinks(dir))[keyId];
  if (!e || typeof e.account !== 'string' || typeof e.organization !== 'string') return undefined;
  const link: KeyLink = { account: e.account, organization: e.organization };
  if (typeof e.parent === 'string') link.parent = e.parent;
  if (typeof e.workspace === 'string') link.workspace = e.workspace;
  return link;
}

/** Records the organization `keyId` belongs to (nothing is written when it is already recorded). */
export async function saveKeyLink(dir: string, keyId: string, baseURL: string, link: KeyLink): Promise<void> {
  const links = await readLinks(dir);
  const old = links[keyId];
  if (old && old.account === link.account && old.parent === link.parent && old.organization === link.organization && old.workspace === link.workspace) return;
  links[keyId] = { ...link, baseURL, updatedAt: new Date().toISOString() };
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, LINKS_FILE), `${JSON.stringify(links, null, 2)}\n`);
}
