/** Writes inputs to a temp dir and prepares them, for the input tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { prepareInput, type InputSpec, type PreparedInput } from '../../src/input/index.js';
import type { Item } from '../../src/types.js';

// One dir per worker process: the unpaced tests share workers (isolate: false), so this module is
// loaded once for several test files; the dir goes when the worker does.
const dir = mkdtempSync(join(tmpdir(), 'claw-batch-input-test-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

export const noStdin = Readable.from([]);

export function writeInput(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export type SpecOptions = Partial<Omit<InputSpec, 'path'>>;

export function prepare(path: string, spec: SpecOptions = {}): Promise<PreparedInput> {
  return prepareInput({ path, defaults: {}, ...spec }, noStdin);
}

export async function collect(items: AsyncIterable<Item>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Prepares `content` written as `name` and returns its items. */
export async function itemsOf(name: string, content: string, spec: SpecOptions = {}): Promise<Item[]> {
  const prepared = await prepare(writeInput(name, content), spec);
  return collect(prepared.items());
}

/** The message the prepare of `content` fails with. */
export async function failureOf(name: string, content: string, spec: SpecOptions = {}): Promise<string> {
  try {
    await prepare(writeInput(name, content), spec);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected ${name} to be rejected`);
}

export const lines = (...records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
