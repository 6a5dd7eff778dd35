import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { openResults } from '../../src/output/index.js';
import { erroredResult } from '../../src/types.js';

describe('results on stdout', () => {
  it('writes one JSON line per result to the given stream and reads nothing', async () => {
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
    const { writer, existing } = await openResults(undefined, { keep: 'succeeded', stdout });
    expect(writer.path).toBeUndefined();
    expect(existing.byId.size).toBe(0);
    writer.write(erroredResult('a', 'api_error', 'x'));
    writer.write(erroredResult('b', 'api_error', 'y'));
    await writer.close();
    expect(chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l).custom_id)).toEqual(['a', 'b']);
  });

  it('stops writing quietly when the reader goes away (EPIPE), without throwing', async () => {
    // `head -c 1` exits after one byte; our side of the pipe then gets a real EPIPE.
    const head = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const { writer } = await openResults(undefined, { keep: 'succeeded', stdout: head.stdin });
    writer.write(erroredResult('first', 'api_error', 'x'));
    await once(head, 'exit');
    const line = erroredResult('more', 'api_error', 'x'.repeat(1000));
    for (let i = 0; i < 200 && !writer.readerGone; i++) {
      writer.write(line);
      await new Promise((r) => setImmediate(r));
    }
    expect(writer.readerGone).toBe(true);
    expect(() => writer.write(line)).not.toThrow();
    await writer.close();
  });

  it('surfaces any other stream error on the next write', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    const { writer } = await openResults(undefined, { keep: 'succeeded', stdout: broken });
    writer.write(erroredResult('a', 'api_error', 'x'));
    await new Promise((r) => setImmediate(r));
    expect(() => writer.write(erroredResult('b', 'api_error', 'x'))).toThrow('disk on fire');
  });
});
