import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { waitUntilEnded } from '../../src/batch/poller.js';
import { StoppedError } from '../../src/errors.js';

/** A stand-in for GET /v1/messages/batches/:id that answers from a script, one entry per call. */
function scriptedApi(script: { status: number; body: object; headers?: Record<string, string> }[]) {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const step = script[Math.min(calls++, script.length - 1)]!;
    res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
    res.end(JSON.stringify(step.body));
  });
  return { server, calls: () => calls };
}

const batch = (status: 'in_progress' | 'ended') => ({
  id: 'msgbatch_1',
  type: 'message_batch',
  processing_status: status,
  request_counts: status === 'ended' ? { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 } : { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  created_at: '2026-11-28T00:00:00Z',
  expires_at: '2026-11-29T00:00:00Z',
  ended_at: status === 'ended' ? '2026-11-28T00:01:00Z' : null,
  cancel_initiated_at: null,
  archived_at: null,
  results_url: null,
});
const apiError = (type: string) => ({ type: 'error', error: { type, message: type } });

describe('waitUntilEnded', () => {
  const api = scriptedApi([
    { status: 200, body: batch('in_progress') },
    { status: 529, body: apiError('overloaded_error') },
    { status: 500, body: apiError('api_error') },
    { status: 429, body: apiError('rate_limit_error'), headers: { 'retry-after': '0' } },
    { status: 200, body: batch('ended') },
  ]);
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => api.server.close(() => r())));

  it('retries 529, 500 and 429 while polling instead of failing, and returns once the batch has ended', async () => {
    const client = createClient({ apiKey: 'test-key', baseURL: url });
    const retried: string[] = [];
    const polls: string[] = [];
    const batches = await waitUntilEnded(client, ['msgbatch_1'], {
      intervalSeconds: 0.01,
      onRetry: (err) => retried.push(String((err as { status?: number }).status)),
      onPoll: (b) => {
        polls.push(b[0]!.processing_status);
      },
    });
    expect(batches[0]!.processing_status).toBe('ended');
    expect(retried).toEqual(['529', '500', '429']);
    expect(polls).toEqual(['in_progress', 'ended']);
    expect(api.calls()).toBe(5);
  });

  it('stops with StoppedError when its signal aborts', async () => {
    const client = createClient({ apiKey: 'test-key', baseURL: url });
    const controller = new AbortController();
    controller.abort();
    await expect(waitUntilEnded(client, ['msgbatch_1'], { intervalSeconds: 0.01, signal: controller.signal })).rejects.toBeInstanceOf(StoppedError);
  });
});
