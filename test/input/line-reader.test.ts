import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines } from '../../src/input/line-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'claw-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(file: string) {
  const out = [];
  for await (const l of readLines(file)) out.push(l);
  return out;
}

describe('readLines', () => {
  it('keeps a line that spans many read chunks whole, with the lines around it', async () => {
    // 256 KB chunks: a 3 MB line crosses a dozen of them, and ends mid-chunk.
    const long = 'é'.repeat(1_500_000) + 'end';
    const file = join(dir, 'long.jsonl');
    writeFileSync(file, `first\n${long}\r\nlast`);
    const lines = await all(file);
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3]);
    expect(lines[0]!.text).toBe('first');
    expect(lines[1]!.text.length).toBe(long.length);
    expect(lines[1]!.text === long).toBe(true);
    expect(lines[2]!.text).toBe('last');
    expect(lines.every((l) => l.invalidUtf8 === undefined)).toBe(true);
  });

  it('keeps a long last line without a newline whole', async () => {
    const long = 'x'.repeat(700_000);
    const file = join(dir, 'tail.jsonl');
    writeFileSync(file, long);
    const lines = await all(file);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text === long).toBe(true);
  });
});
