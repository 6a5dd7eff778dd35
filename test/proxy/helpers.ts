/**
 * Shared by the proxy tests: a simulator and a proxy in front of it (the real server, in this
 * process), official SDK clients pointed at the proxy, and a tiny upstream stub for what the
 * simulator cannot produce.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { startProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.js';

export const MODEL = 'claude-haiku-4-5';

export interface ProxyFixture {
  readonly sim: Simulator;
  /** Starts a proxy in front of the simulator (closed after the test). */
  proxy(options?: Partial<ProxyOptions>): Promise<Proxy>;
  /** Lines the last proxy logged. */
  readonly logs: string[];
}

/** One simulator per file (options reset after each test), a fresh proxy per test. */
export function useProxyFixture(simOptions: SimulatorOptions = {}, resetAfterEach: Partial<SimulatorOptions> = {}): ProxyFixture {
  let sim: Simulator | undefined;
  const open: Proxy[] = [];
  const logs: string[] = [];
  beforeAll(async () => {
    sim = await startSimulator(simOptions);
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close(0)));
    logs.length = 0;
    sim?.setOptions(resetAfterEach);
    sim?.resetCounters();
  });
  return {
    get sim() {
      if (!sim) throw new Error('the simulator is not started yet (use it inside a test)');
      return sim;
    },
    logs,
    async proxy(options = {}) {
      const p = await startProxy({ port: 0, upstream: this.sim.url, log: (l) => logs.push(l), ...options });
      open.push(p);
      return p;
    },
  };
}

/** The official SDK, naive: no retries of its own, no limiter. */
export function naiveClient(proxy: Proxy, options: { apiKey?: string; name?: string; headers?: Record<string, string> } = {}): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey ?? 'test-key',
    baseURL: proxy.url,
    maxRetries: 0,
    defaultHeaders: { ...(options.name ? { 'x-claw-client': options.name } : {}), ...options.headers },
  });
}

export function ask(prompt: string, maxTokens = 64): Anthropic.MessageCreateParamsNonStreaming {
  return { model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: prompt }] };
}

export const textOf = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(20);
  }
}

/** The simulator's live counters over HTTP (they include `inFlight`, which the handle's do not). */
export async function simLive(sim: Simulator): Promise<{ inFlight: number; clientAborts: number; requests: number; succeeded: number }> {
  return (await fetch(`${sim.url}/_sim/counters`)).json() as Promise<{ inFlight: number; clientAborts: number; requests: number; succeeded: number }>;
}

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Stub {
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

/** An upstream that records each request and answers with `answer` (for edge cases the simulator does not make). */
export async function stubUpstream(answer: (req: StubRequest, res: http.ServerResponse) => void): Promise<Stub> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
