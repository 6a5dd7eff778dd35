/**
 * Bytes that are not UTF-8 are an input error naming the file and line (exit 2, nothing sent),
 * not text silently turned into U+FFFD and paid for.
 */
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, Utf8StreamCheck } from '../../src/input/utf8.js';
import { runCli } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';
import { collect, prepare, writeInput } from './temp-input.js';

const defaults = { model: 'claude-haiku-4-5', max_tokens: 10 };
const good = (i: number) => Buffer.from(`{"custom_id":"a${i}","prompt":"café ${i} — ok"}\n`);
const latin1Line = Buffer.concat([Buffer.from('{"custom_id":"bad","prompt":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);

async function failure(name: string, content: Buffer): Promise<string> {
  try {
    await prepare(writeInput(name, content), { defaults });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected ${name} to be rejected`);
}

describe('invalid UTF-8 in the input', () => {
  it('JSONL: names the file, the line, the byte and its position', async () => {
    const message = await failure('latin1.jsonl', Buffer.concat([good(1), good(2), latin1Line, good(4)]));
    expect(message).toMatch(/latin1\.jsonl:3: not valid UTF-8 \(byte 33 of the line is 0xE9\): the input must be UTF-8 text/);
  });

  it('JSONL: a last line without a newline, cut off inside a character', async () => {
    const message = await failure('cut.jsonl', Buffer.concat([good(1), Buffer.from('{"prompt":"x'), Buffer.from([0xe2, 0x80])]));
    expect(message).toMatch(/cut\.jsonl:2: not valid UTF-8/);
  });

  it('JSONL: valid multi-byte characters across the reader\'s 256 KB chunk boundaries are fine', async () => {
    const line = (i: number) => `{"custom_id":"m${i}","prompt":"${'é€😀'.repeat(300)}"}\n`;
    const text = Array.from({ length: 400 }, (_, i) => line(i)).join('');
    const prepared = await prepare(writeInput('multibyte.jsonl', text), { defaults });
    expect(prepared.count).toBe(400);
    const items = await collect(prepared.items());
    expect(items[399]!.params.messages[0]!.content).toBe('é€😀'.repeat(300));
  });

  it('CSV: names the physical line of the bad byte', async () => {
    const csv = Buffer.concat([Buffer.from('id,prompt\n1,fine\n2,"also\nfine"\n3,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const message = await failure('latin1.csv', csv);
    expect(message).toMatch(/latin1\.csv:5: not valid UTF-8 \(byte 6 of the line is 0xE9\)/);
  });

  it('CSV: a bad row before the bad byte is reported first', async () => {
    const csv = Buffer.concat([Buffer.from('id,prompt\n1,fine\n2,too,many\n3,fine\n4,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(await failure('order.csv', csv)).toMatch(/order\.csv:3: expected 2 fields/);
  });

  it('the stream check finds a bad byte split across chunks, and a character cut off at the end', () => {
    const check = new Utf8StreamCheck();
    expect(check.push(Buffer.from('ab\ncd'))).toBeUndefined();
    expect(check.push(Buffer.from([0xe2, 0x82]))).toBeUndefined(); // the start of '€', continued below
    expect(check.push(Buffer.from([0xac, 0x0a, 0x78, 0xff]))).toMatchObject({ line: 3, column: 2, byte: 0xff });
    const cut = new Utf8StreamCheck();
    expect(cut.push(Buffer.from([0x61, 0xf0, 0x9f]))).toBeUndefined();
    expect(cut.end()).toMatchObject({ line: 1, column: 2, byte: 0xf0 });
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) expect(firstInvalidUtf8(Buffer.from(bytes))).toBe(0);
  });
});

describe('invalid UTF-8, through the CLI', () => {
  const fx = useSimulator();

  it('run: exit 2 with one line naming file:line, nothing sent', async () => {
    fx.newDir();
    const input = writeInput('cli-latin1.jsonl', Buffer.concat([good(1), latin1Line]));
    fx.sim.resetCounters();
    const r = await runCli(['run', input, '--model', 'claude-haiku-4-5', '--realtime'], { env: fx.env() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${input}:2: not valid UTF-8`);
    expect(fx.sim.counters().requests).toBe(0);
  });
});
