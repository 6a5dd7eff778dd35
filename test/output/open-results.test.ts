import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openResults } from '../../src/output/index.js';
import { InputError } from '../../src/errors.js';
import { erroredResult, type ResultLine } from '../../src/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'claw-output-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ok(id: string, text = `answer ${id}`): ResultLine {
  return {
    custom_id: id,
    result: {
      type: 'succeeded',
      message: {
        id: `msg_${id}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [{ type: 'text', text, citations: null }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 2 },
      } as never,
    },
  };
}
const bad = (id: string) => erroredResult(id, 'api_error', 'boom');
const jsonl = (lines: ResultLine[]) => lines.map((l) => JSON.stringify(l) + '\n').join('');
const idsIn = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as ResultLine).custom_id);

describe('openResults', () => {
  it('creates missing parent directories and appends whole lines', async () => {
    const path = join(dir, 'a', 'b', 'out.jsonl');
    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    expect(existing.byId.size).toBe(0);
    writer.write(ok('x1'));
    // Synchronous: the line is on disk before write() returns.
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify(ok('x1')) + '\n');
    writer.write(bad('x2'));
    await writer.close();
    await writer.close();
    expect(await idsIn(path)).toEqual(['x1', 'x2']);
    expect(writer.path).toBe(path);
  });

  it('cuts off a torn last line and counts its item as not done', async () => {
    const path = join(dir, 'out.jsonl');
    const whole = jsonl([ok('a'), ok('b')]);
    const torn = JSON.stringify(ok('c')).slice(0, 25);
    await writeFile(path, whole + torn);
    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    expect(existing.repairedTornLine).toBe(true);
    expect([...existing.byId.keys()]).toEqual(['a', 'b']);
    expect(existing.byId.has('c')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(whole);
    writer.write(ok('c'));
    await writer.close();
    expect(await idsIn(path)).toEqual(['a', 'b', 'c']);
  });

  it('keeps a whole last line that only lacks its newline, and appends after it', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, JSON.stringify(ok('a')));
    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    expect(existing.repairedTornLine).toBe(false);
    expect(existing.byId.get('a')).toBe('succeeded');
    writer.write(ok('b'));
    await writer.close();
    expect(await idsIn(path)).toEqual(['a', 'b']);
  });

  it("'succeeded' mode drops errored lines and duplicate ids, atomically", async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, jsonl([ok('a'), bad('b'), ok('c'), ok('a', 'again'), bad('d'), ok('d')]) + '\n');
    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    await writer.close();
    expect(existing.dropped).toBe(3);
    expect(Object.fromEntries(existing.byId)).toEqual({ a: 'succeeded', c: 'succeeded', d: 'succeeded' });
    expect(await idsIn(path)).toEqual(['a', 'c', 'd']);
    // The first line for 'a' is kept byte for byte; no temp file is left behind.
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe(JSON.stringify(ok('a')));
    expect(await readdir(dir)).toEqual(['out.jsonl']);
  });

  it("'all' mode keeps errored/expired/canceled lines, drops only duplicates", async () => {
    const path = join(dir, 'out.jsonl');
    const expired: ResultLine = { custom_id: 'e', result: { type: 'expired' } };
    const canceled: ResultLine = { custom_id: 'k', result: { type: 'canceled' } };
    await writeFile(path, jsonl([ok('a'), bad('b'), expired, canceled, bad('a'), bad('c'), ok('c')]));
    const { writer, existing } = await openResults(path, { keep: 'all' });
    await writer.close();
    expect(Object.fromEntries(existing.byId)).toEqual({
      a: 'succeeded',
      b: 'errored',
      e: 'expired',
      k: 'canceled',
      c: 'succeeded',
    });
    expect(existing.dropped).toBe(2);
    expect(await idsIn(path)).toEqual(['a', 'b', 'e', 'k', 'c']);
  });

  it("'all' mode leaves a file with nothing to drop untouched", async () => {
    const path = join(dir, 'out.jsonl');
    const content = jsonl([ok('a'), bad('b')]);
    await writeFile(path, content);
    const { writer, existing } = await openResults(path, { keep: 'all' });
    await writer.close();
    expect(existing.dropped).toBe(0);
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('refuses a corrupt line in the middle with an InputError naming the line', async () => {
    const path = join(dir, 'out.jsonl');
    const content = jsonl([ok('a')]) + '{"custom_id": "b", "res\n' + jsonl([ok('c')]);
    await writeFile(path, content);
    const err = await openResults(path, { keep: 'succeeded' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toBe(2);
    expect((err as InputError).message).toContain(`${path}:2: not a claw-batch result line`);
    // Never silently discard user data.
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('refuses a file of valid JSON that is not results (e.g. the input given as -o)', async () => {
    const path = join(dir, 'items.jsonl');
    await writeFile(path, '{"custom_id":"a","prompt":"hi"}\n');
    const err = await openResults(path, { keep: 'succeeded' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toBe(1);
    expect(await readFile(path, 'utf8')).toBe('{"custom_id":"a","prompt":"hi"}\n');
  });

  it('accepts result lines written by other tools, in any key order and spacing', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{ "result": {"type": "succeeded", "message": {}}, "custom_id": "a" }\r\n' + jsonl([ok('b')]));
    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    await writer.close();
    expect(Object.fromEntries(existing.byId)).toEqual({ a: 'succeeded', b: 'succeeded' });
  });

  it('fresh truncates and starts over', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, jsonl([ok('a'), ok('b')]) + 'garbage in the middle\n' + jsonl([ok('c')]));
    const { writer, existing } = await openResults(path, { keep: 'succeeded', fresh: true });
    expect(existing.byId.size).toBe(0);
    writer.write(ok('z'));
    await writer.close();
    expect(await idsIn(path)).toEqual(['z']);
  });

  it('refuses a directory as the results path with one sentence', async () => {
    await expect(openResults(dir, { keep: 'succeeded' })).rejects.toThrow(/^cannot write results to .*: it is not a regular file$/);
  });

  it('streams a 200k-line file and compacts it', async () => {
    const path = join(dir, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const type = i % 1000 === 7 ? 'errored' : 'succeeded';
      lines.push(`{"custom_id":"id-${i}","result":{"type":"${type}"}}\n`);
    }
    await writeFile(path, lines.join('') + '{"custom_id":"id-200000","result":{"ty');

    const { writer, existing } = await openResults(path, { keep: 'succeeded' });
    await writer.close();
    expect(existing.repairedTornLine).toBe(true);
    expect(existing.dropped).toBe(200);
    expect(existing.byId.size).toBe(199_800);
    expect(existing.byId.has('id-7')).toBe(false);
    expect(existing.byId.get('id-199999')).toBe('succeeded');
    const kept = (await readFile(path, 'utf8')).split('\n');
    expect(kept.length).toBe(199_801);
    expect(kept[0]).toBe('{"custom_id":"id-0","result":{"type":"succeeded"}}');
    expect(kept[7]).toBe('{"custom_id":"id-8","result":{"type":"succeeded"}}');
    expect(kept.at(-2)).toBe('{"custom_id":"id-199999","result":{"type":"succeeded"}}');
  });
});
