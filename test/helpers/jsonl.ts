/** Input files of records, and the check every CLI test makes of its output: each item once. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { countById, readResults } from './cli.js';

export type Rec = Record<string, unknown>;

/** Writes `records` as JSONL in `dir` and returns the path. */
export function writeJsonl(dir: string, records: Rec[], name = 'items.jsonl'): string {
  const path = join(dir, name);
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

/** `out` holds exactly `n` custom_ids, each on one line, every result of `type`. */
export function expectEachOnce(out: string, n: number, type = 'succeeded'): void {
  const lines = readResults(out);
  const counts = countById(lines);
  expect(counts.size).toBe(n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  expect(lines.every((l) => l.result.type === type)).toBe(true);
}

export const ticket = (i: number): string => `Classify support ticket ${i}: my parcel has not arrived.`;
