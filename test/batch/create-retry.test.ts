import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { newManifest } from '../../src/batch/jobs.js';
import { submitJob } from '../../src/batch/submitter.js';
import { StoppedError } from '../../src/errors.js';
import type { Item } from '../../src/types.js';

const batch = {
  id: 'msgbatch_1',
  type: 'message_batch',
  processing_status: 'in_progress',
  request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  created_at: '2026-11-28T00:00:00Z',
  expires_at: '2026-11-29T00:00:00Z',
  ended_at: null,
  cancel_initiated_at: null,
  archived_at: null,
  results_url: null,
};
const rateLimited = { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } };

/** POST /v1/messages/batches answered from a script, one entry per call (the last repeats). */
async function scriptedCreate(script: { status: number; headers?: Record<string, string> }[], onCall?: () => void) {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const step = script[Math.min(calls++, script.length - 1)]!;
      onCall?.();
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(JSON.stringify(step.status === 200 ? batch : rateLimited));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function* twoItems(): AsyncGenerator<Item> {
  for (const id of ['a', 'b']) {
    yield { custom_id: id, params: { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: id }] }, source: { file: 'in.jsonl', line: 1 } } as Item;
  }
}

function job(env: NodeJS.ProcessEnv, url: string) {
  const manifest = newManifest({
    input: { displayName: 'in.jsonl', format: 'jsonl', count: 2, contentHash: 'h' },
    inputPath: '/in.jsonl',
    defaults: {},
    createdBy: 'submit',
    selection: 'all',
    chunkLimits: { maxRequests: 10, maxBytes: 1_000_000 },
  });
  return { client: createClient({ apiKey: 'k', baseURL: url }), env, manifest, items: twoItems() };
}

describe('creating a batch that is refused with 429', () => {
  const dirs: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const stateEnv = () => {
    const dir = mkdtempSync(join(tmpdir(), 'claw-batch-create-'));
    dirs.push(dir);
    return { CLAW_BATCH_STATE_DIR: dir };
  };

  it('waits retry-after-ms (not the coarser retry-after), then creates it', async () => {
    const api = await scriptedCreate([{ status: 429, headers: { 'retry-after-ms': '20', 'retry-after': '600' } }, { status: 200 }]);
    closers.push(api.close);
    // The backoff is under a second; were `retry-after: 600` honoured instead, this would time out.
    const m = await submitJob(job(stateEnv(), api.url));
    expect(m.batches.map((b) => b.id)).toEqual(['msgbatch_1']);
    expect(api.calls()).toBe(2);
  });

  it('after Ctrl-C during the wait, sends no further create and stops as interrupted', async () => {
    const controller = new AbortController();
    const api = await scriptedCreate([{ status: 429, headers: { 'retry-after-ms': '60000' } }], () => setTimeout(() => controller.abort(), 20));
    closers.push(api.close);
    const err = await submitJob({ ...job(stateEnv(), api.url), signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoppedError);
    expect((err as StoppedError).reason).toBe('interrupted');
    await new Promise((r) => setTimeout(r, 100));
    expect(api.calls()).toBe(1);
  });
});
