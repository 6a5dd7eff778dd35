import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openResults } from '../../src/output/index.js';
import { erroredResult } from '../../src/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'claw-output-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('appends many lines, each whole and in order, onto what a previous run left', async () => {
  const path = join(dir, 'out.jsonl');
  const first = await openResults(path, { keep: 'all' });
  for (let i = 0; i < 10_000; i++) first.writer.write(erroredResult(`id-${i}`, 'api_error', 'some message here'));
  await first.writer.close();
  const second = await openResults(path, { keep: 'all' });
  expect(second.existing.byId.size).toBe(10_000);
  for (let i = 10_000; i < 20_000; i++) second.writer.write(erroredResult(`id-${i}`, 'api_error', 'some message here'));
  await second.writer.close();
  const lines = (await readFile(path, 'utf8')).split('\n');
  expect(lines.length).toBe(20_001);
  expect(lines.at(-1)).toBe('');
  const outOfOrder = lines.slice(0, -1).findIndex((line, i) => JSON.parse(line).custom_id !== `id-${i}`);
  expect(outOfOrder).toBe(-1);
});
