import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { prepareInput } from '../../src/input/index.js';
import { collect, lines } from './temp-input.js';

const defaults = { model: 'claude-haiku-4-5', max_tokens: 10 };

describe('stdin', () => {
  it('spools stdin to a temp file so it can be validated and then read again, and removes it on dispose', async () => {
    const content = lines({ custom_id: 's1', prompt: 'one' }, { prompt: 'two' });
    const stdin = Readable.from([Buffer.from(content.slice(0, 10)), Buffer.from(content.slice(10))]);
    const prepared = await prepareInput({ path: '-', defaults }, stdin);
    expect(prepared).toMatchObject({ displayName: '<stdin>', format: 'jsonl', count: 2 });
    const items = await collect(prepared.items());
    expect(items.map((i) => [i.custom_id, i.source])).toEqual([
      ['s1', { file: '<stdin>', line: 1 }],
      ['row-000002', { file: '<stdin>', line: 2 }],
    ]);
    expect(existsSync(prepared.file)).toBe(true);
    await prepared.dispose();
    expect(existsSync(prepared.file)).toBe(false);
  });

  it('names <stdin> in errors and removes the spool when validation fails', async () => {
    const stdin = Readable.from([lines({ prompt: 'ok' }, '{oops')]);
    await expect(prepareInput({ path: '-', defaults }, stdin)).rejects.toThrow(/^<stdin>:2: malformed JSON/);
  });

  it('reads CSV from stdin with --format csv', async () => {
    const prepared = await prepareInput({ path: '-', format: 'csv', template: 'Q: {{q}}', defaults }, Readable.from(['q\nwhy\n']));
    expect((await collect(prepared.items()))[0]!.params.messages[0]!.content).toBe('Q: why');
    await prepared.dispose();
  });
});

describe('streaming', () => {
  it('lets the consumer stop early, past the reader\'s backpressure point, without hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'claw-batch-early-'));
    try {
      const path = join(dir, 'many.csv');
      writeFileSync(path, 'prompt\n' + 'hello\n'.repeat(5_000));
      const prepared = await prepareInput({ path, defaults }, Readable.from([]));
      let n = 0;
      for await (const _ of prepared.items()) if (++n === 3) break;
      expect(n).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The proof that items are not held: a child process whose heap is capped below what the 100k
  // items would take if kept (the file alone is 24 MB; keeping the items aborts with an
  // out-of-memory at this cap) validates and iterates all of them.
  it('validates and iterates a 100k-line file within a 32 MB heap', async () => {
    const entry = fileURLToPath(new URL('../../dist/input/index.js', import.meta.url));
    expect(existsSync(entry), 'run `npx tsc -p .` first: this test runs the built module').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'claw-batch-flat-'));
    try {
      const path = join(dir, 'big.jsonl');
      const pad = 'x'.repeat(200);
      let content = '';
      for (let i = 1; i <= 100_000; i++) content += `{"custom_id":"id-${i}","prompt":"${pad} ${i}"}\n`;
      writeFileSync(path, content);
      content = '';
      const script = `
        const { prepareInput } = await import(${JSON.stringify(entry)});
        const { Readable } = await import('node:stream');
        const p = await prepareInput({ path: ${JSON.stringify(path)}, defaults: { model: 'm', max_tokens: 1 } }, Readable.from([]));
        let n = 0; for await (const item of p.items()) n++;
        console.log(JSON.stringify({ count: p.count, iterated: n }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=32', '--input-type=module', '-e', script]);
      expect(JSON.parse(stdout)).toEqual({ count: 100_000, iterated: 100_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
