/**
 * The library through its public entry only (`claw-batch`, as a Node program imports it), with the
 * real SDK over HTTP to the simulator: importing starts nothing, a wrapped client answers as the
 * SDK does (plain, `stream: true`, `messages.stream`), waits out a 429 pause unseen, honours an
 * AbortSignal, stops on a rejected key, and leaves no handle once closed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, ClientClosedError, InvalidOptionError, StoppedError, startSimulator, wrapClient, type Simulator } from 'claw-batch';
import { removeDir, tempDir } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL = 'claude-haiku-4-5';
const ask = (text: string) => ({ model: MODEL, max_tokens: 32, messages: [{ role: 'user' as const, content: text }] });

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 20 });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.setOptions({ rpm: undefined, rejectKeys: undefined, latencyMs: 20, outputTokensPerSecond: undefined });
  if (dir) removeDir(dir);
});

/** Runs `code` as an ES module inside the worktree (the package resolves itself by name); its exit code and stderr. */
function runModule(code: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const file = join(ROOT, `.library-test-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      removeDir(file);
      resolve({ code, stderr });
    }),
  );
}

function paced(options: Parameters<typeof wrapClient>[1] = {}, key = 'library-key') {
  dir = tempDir();
  return wrapClient(new Anthropic({ apiKey: key, baseURL: sim.url }), { stateDir: join(dir, 'state'), ...options });
}

describe('the package entry', () => {
  it('a program that imports it and does nothing exits at once with code 0', async () => {
    const child = spawn(process.execPath, ['-e', "import('claw-batch')"], { cwd: ROOT, stdio: 'ignore' });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
  });

  it('a program that sends through a wrapped client on the local store and closes it exits by itself: no timer or handle is left', async () => {
    dir = tempDir();
    const { code, stderr } = await runModule(
      `import Anthropic from '@anthropic-ai/sdk';
       import { wrapClient } from 'claw-batch';
       const paced = wrapClient(new Anthropic({ apiKey: 'k', baseURL: ${JSON.stringify(sim.url)} }), { stateDir: ${JSON.stringify(join(dir, 'state'))} });
       const m = await paced.messages.create(${JSON.stringify(ask('exit after me'))});
       if (m.type !== 'message') process.exit(5);
       await paced.close();`,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('refuses a bad option at once, naming it', () => {
    const client = new Anthropic({ apiKey: 'k', baseURL: sim.url });
    expect(() => wrapClient(client, { sharedLimits: 'memcached://x' })).toThrow(InvalidOptionError);
    expect(() => wrapClient(client, { rpm: -1 })).toThrow(/Invalid value for rpm: expected a finite number > 0, got `-1`/);
  });
});

describe('a wrapped client', () => {
  it('answers as the SDK does: a Message, a stream of events, and a MessageStream with its final message', async () => {
    const client = paced();
    try {
      const message = await client.messages.create(ask('plain'));
      expect(message.content[0]).toMatchObject({ type: 'text' });
      const { data, response } = await client.messages.create(ask('with response')).withResponse();
      expect(data.usage.output_tokens).toBeGreaterThan(0);
      expect(response.headers.get('anthropic-organization-id')).not.toBeNull();

      const stream = await client.messages.create({ ...ask('streamed'), stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types[0]).toBe('message_start');
      expect(types.at(-1)).toBe('message_stop');

      const final = await client.messages.stream(ask('helper')).finalMessage();
      expect(final.usage.output_tokens).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('waits out a 429 pause unseen: every caller gets its answer', async () => {
    // Limits the wrapper is not told about, and a burst it cannot know of before the first answer.
    sim.setOptions({ rpm: 120 });
    sim.resetCounters();
    const client = paced({ sharedLimits: 'off' });
    try {
      // Another client of the account spends the bucket first (unpaced), so the wrapper's first requests meet 429s.
      const raw = new Anthropic({ apiKey: 'library-key', baseURL: sim.url, maxRetries: 0 });
      await Promise.allSettled(Array.from({ length: 3 }, (_, i) => raw.messages.create(ask(`spend ${i}`))));
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => client.messages.create(ask(`after ${i}`))));
      expect(answers).toHaveLength(4);
      expect(sim.counters().rateLimited).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it("aborts a call waiting for its turn when its signal fires, and the other calls go on", async () => {
    sim.setOptions({ rpm: 60 });
    const client = paced({ sharedLimits: 'off' });
    try {
      await client.messages.create(ask('learn the limit'));
      const controller = new AbortController();
      const waiting = Array.from({ length: 3 }, (_, i) => client.messages.create(ask(`queued ${i}`), { signal: controller.signal }));
      const kept = client.messages.create(ask('kept'));
      setTimeout(() => controller.abort(), 50);
      const settled = await Promise.allSettled(waiting);
      expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThanOrEqual(2);
      for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(AbortedError);
      await expect(kept).resolves.toMatchObject({ type: 'message' });
    } finally {
      await client.close();
    }
  });

  it('a stream aborted mid-way ends as the SDK ends it, and its place in flight is free for the next call', async () => {
    sim.setOptions({ outputTokensPerSecond: 20 });
    const client = paced({ sharedLimits: 'off' });
    try {
      const controller = new AbortController();
      const stream = await client.messages.create({ ...ask('a slow answer'), max_tokens: 200, stream: true }, { signal: controller.signal });
      const types: string[] = [];
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'content_block_delta') controller.abort();
      }
      expect(types).not.toContain('message_stop');
      sim.setOptions({ outputTokensPerSecond: undefined });
      await expect(client.messages.create(ask('next'))).resolves.toMatchObject({ type: 'message' });
    } finally {
      await client.close();
    }
  });

  it('close() fails the calls still waiting with ClientClosedError, and every later call', async () => {
    sim.setOptions({ rpm: 60 });
    const client = paced({ sharedLimits: 'off' });
    await client.messages.create(ask('learn the limit'));
    const waiting = Array.from({ length: 3 }, (_, i) => client.messages.create(ask(`held ${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.close();
    const settled = await Promise.allSettled(waiting);
    expect(settled.some((s) => s.status === 'rejected' && s.reason instanceof ClientClosedError)).toBe(true);
    await expect(client.messages.create(ask('after close'))).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('a rejected key stops the client: StoppedError (reason auth) with the SDK error as its cause, and nothing more is sent', async () => {
    sim.setOptions({ rejectKeys: ['bad-key'] });
    const client = paced({ sharedLimits: 'off' }, 'bad-key');
    try {
      const err = await client.messages.create(ask('refused')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoppedError);
      expect((err as StoppedError).reason).toBe('auth');
      expect((err as StoppedError).cause).toBeInstanceOf(Anthropic.AuthenticationError);
      sim.resetCounters();
      await expect(client.messages.create(ask('again'))).rejects.toBeInstanceOf(StoppedError);
      expect(sim.counters().requests).toBe(0);
    } finally {
      await client.close();
    }
  });

  it("passes a request's own error back as the SDK's error", async () => {
    const client = paced({ sharedLimits: 'off' });
    try {
      await expect(client.messages.create({ ...ask('x'), max_tokens: -5 })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    } finally {
      await client.close();
    }
  });
});
