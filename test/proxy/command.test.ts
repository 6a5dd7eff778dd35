/**
 * `claw-batch proxy` as a user runs it: the real process in front of the simulator. It prints
 * where it listens and the line to export, lends its key to clients with none without the key
 * ever appearing in any output, refuses a non-loopback address without a token, and on Ctrl-C
 * lets what is in flight finish.
 */
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import Anthropic from '@anthropic-ai/sdk';
import { BIN, cliEnv, removeDir, runCli, tempDir } from '../helpers/cli.js';
import { replyText } from '../../src/simulator/index.js';
import { ask, textOf, useProxyFixture } from './helpers.js';

const fx = useProxyFixture({}, { replyTokens: undefined, outputTokensPerSecond: undefined, rejectKeys: undefined });

const KEY = 'sk-ant-api03-THE-PROXY-KEY-must-never-be-printed-0123456789';

interface Running {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

async function startProxyProcess(args: string[], env: Record<string, string>): Promise<Running> {
  const state = tempDir();
  const child = spawn(process.execPath, [BIN, 'proxy', '--port', '0', ...args], {
    env: cliEnv({ CLAW_BATCH_STATE_DIR: state, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('close', () => removeDir(state));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start:\n${out}`)), 10_000);
    const check = () => {
      const m = /export ANTHROPIC_BASE_URL=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    void exited.then(() => reject(new Error(`the proxy exited:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}

describe('claw-batch proxy', () => {
  it('refuses a non-loopback --host without --token (exit 2), naming the fix', async () => {
    const r = await runCli(['proxy', '--host', '0.0.0.0', '--port', '0', '--shared-limits', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--host 0\.0\.0\.0 is not a loopback address.*--token/);
  });

  it('refuses a short token, an upstream that is not http(s), and an upstream that is itself (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--token', 'short'], /Invalid value for --token: expected at least 8 characters/],
      [['--upstream', 'ftp://example.com'], /Invalid value for --upstream: expected an http:\/\/ or https:\/\/ URL/],
      [['--port', '8799', '--upstream', 'http://localhost:8799'], /is this proxy's own address/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['proxy', '--shared-limits', 'off', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('lends ANTHROPIC_API_KEY to keyless clients, and the key appears in no output: banner, log, status, answers', async () => {
    const proxy = await startProxyProcess(['--upstream', fx.sim.url], { ANTHROPIC_API_KEY: KEY, CLAW_BATCH_STOP_GRACE_MS: '5000' });
    expect(proxy.output()).toMatch(/claw-batch proxy listening on http:\/\/127\.0\.0\.1:\d+ -> http:\/\/127\.0\.0\.1:\d+/);
    expect(proxy.output()).toMatch(/clients that send no key of their own use this process's ANTHROPIC_API_KEY/);

    const keyless = new Anthropic({ apiKey: null, baseURL: proxy.url, maxRetries: 0, defaultHeaders: { authorization: null } });
    const message = await keyless.messages.create(ask('hello'));
    expect(textOf(message)).toBe(replyText(ask('hello')));
    // An error answer about the key: passed back, logged, still without the key.
    fx.sim.setOptions({ rejectKeys: [KEY] });
    await expect(keyless.messages.create(ask('again'))).rejects.toMatchObject({ status: 401 });
    fx.sim.setOptions({ rejectKeys: [] });
    const status = await (await fetch(`${proxy.url}/_claw/status`)).text();
    expect(JSON.parse(status).totals).toMatchObject({ succeeded: 1, errors: 1 });

    // Ctrl-C with an answer still streaming: it finishes, then the proxy exits 0.
    fx.sim.setOptions({ replyTokens: 100, outputTokensPerSecond: 200 });
    const streaming = keyless.messages.stream(ask('a half-second answer', 1024)).finalMessage();
    await new Promise((r) => setTimeout(r, 150));
    proxy.child.kill('SIGINT');
    expect((await streaming).usage.output_tokens).toBe(100);
    expect(await proxy.exited).toBe(0);
    const out = proxy.output();
    expect(out).toMatch(/SIGINT: no new requests; 1 in flight or held get 5\.0s to finish/);
    expect(out).toMatch(/claw-batch proxy stopped: 3 requests/);
    for (const text of [out, status, JSON.stringify(message)]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(KEY.slice(0, 24));
    }
  });

  it('holds 30 clients at once for their turns without a Node warning on its stderr', async () => {
    // Each held request listens for the proxy's shutdown: past 10, Node printed MaxListenersExceededWarning.
    const proxy = await startProxyProcess(['--upstream', fx.sim.url, '--rpm', '1200'], {});
    const client = new Anthropic({ apiKey: 'test-key', baseURL: proxy.url, maxRetries: 0 });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => client.messages.create(ask(`client ${i}`))));
    expect(answers.map(textOf)).toEqual(Array.from({ length: 30 }, (_, i) => replyText(ask(`client ${i}`))));
    proxy.child.kill('SIGINT');
    expect(await proxy.exited).toBe(0);
    expect(proxy.output()).not.toMatch(/Warning/);
  });

  it('exits 3 when the grace after Ctrl-C runs out with a request still open', async () => {
    fx.sim.setOptions({ replyTokens: 400, outputTokensPerSecond: 40 });
    const proxy = await startProxyProcess(['--upstream', fx.sim.url], { CLAW_BATCH_STOP_GRACE_MS: '300' });
    const client = new Anthropic({ apiKey: 'test-key', baseURL: proxy.url, maxRetries: 0 });
    const stream = client.messages.stream(ask('a ten-second answer', 1024));
    const ended = stream.done().catch((e: unknown) => e);
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    proxy.child.kill('SIGINT');
    expect(await proxy.exited).toBe(3);
    expect(await ended).toBeInstanceOf(Error);
    expect(proxy.output()).toMatch(/1 cut off when the grace ran out/);
  });

  it('a request still held for its turn when the grace runs out gets a 503 saying it was not sent, not a cut connection', async () => {
    fx.sim.setOptions({ replyTokens: 400, outputTokensPerSecond: 40 });
    // 60 RPM: one request goes at once, the next would wait about a second for its turn.
    const proxy = await startProxyProcess(['--upstream', fx.sim.url, '--rpm', '60'], { CLAW_BATCH_STOP_GRACE_MS: '300' });
    const client = new Anthropic({ apiKey: 'test-key', baseURL: proxy.url, maxRetries: 0 });
    const first = client.messages.stream(ask('a ten-second answer', 1024));
    const firstEnded = first.done().catch((e: unknown) => e);
    await new Promise<void>((resolve) => first.once('text', () => resolve()));
    const held = client.messages.create(ask('the second', 64)).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.child.kill('SIGINT');
    const refused = await held;
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    expect((refused as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect(String((refused as Error).message)).toMatch(/shutting down; this request was not sent to the API — send it again/);
    expect(await proxy.exited).toBe(3);
    expect(await firstEnded).toBeInstanceOf(Error);
  });
});

