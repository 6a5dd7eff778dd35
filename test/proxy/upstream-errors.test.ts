/**
 * What comes back from upstream besides a success: a 429 is the proxy's to absorb (every request
 * of the class waits, the refused one goes again) until --max-wait; everything else — 529, 5xx,
 * spend and billing refusals — goes back to the client as it came, and into the log.
 */
import { describe, expect, it } from 'vitest';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { ask, naiveClient, sleep, stubUpstream, textOf, useProxyFixture } from './helpers.js';
import { replyText, simulatedMessage } from '../../src/simulator/index.js';
import { startProxy } from '../../src/proxy/index.js';

const fx = useProxyFixture({}, { rpm: undefined, burstSeconds: undefined, rate529: 0, spendLimitAfter: undefined, billingRefusalAfter: undefined, billingRefusal: undefined });

async function rejection(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (err) {
    return err as APIError;
  }
  throw new Error('expected the call to fail');
}

const rateLimited = JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } });

describe('a 429 from upstream', () => {
  it('pauses every waiting request for retry-after and sends the refused one again, unseen by its client', async () => {
    const at: number[] = [];
    const stub = await stubUpstream((req, res) => {
      at.push(Date.now());
      if (at.length === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'request-id': 'req_429' });
        return res.end(rateLimited);
      }
      const body = JSON.stringify(simulatedMessage(JSON.parse(req.body)));
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${at.length}` });
      res.end(body);
    });
    const logs: string[] = [];
    const proxy = await startProxy({ port: 0, upstream: stub.url, log: (l) => logs.push(l) });
    try {
      const clients = ['a', 'b', 'c'].map((name) => naiveClient(proxy, { name }));
      const answers = await Promise.all(clients.map((c, i) => c.messages.create(ask(`question ${i}`))));
      answers.forEach((m, i) => expect(textOf(m)).toBe(replyText(ask(`question ${i}`))));
      expect(at).toHaveLength(4);
      // Nothing went out during the pause the first answer asked for.
      for (const t of at.slice(1)) expect(t - at[0]!).toBeGreaterThanOrEqual(950);
      const status = await proxy.status();
      expect(status.totals).toMatchObject({ upstreamRateLimited: 1, clientRateLimited: 0, succeeded: 3 });
      expect(status.clients.reduce((n, c) => n + c.retried, 0)).toBe(1);
      expect(logs.join('\n')).toMatch(/upstream 429 .*waits 1s/);
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });

  it('a competing client outside the proxy causes 429s: the proxy absorbs them, its clients see none', async () => {
    fx.sim.setOptions({ rpm: 600, burstSeconds: 1, latencyMs: 20 });
    const proxy = await fx.proxy();
    const behind = naiveClient(proxy);
    const outside = new Anthropic({ apiKey: 'test-key', baseURL: fx.sim.url, maxRetries: 0 });
    const paced = Array.from({ length: 30 }, (_, i) => behind.messages.create(ask(`behind ${i}`)));
    await sleep(500);
    // Another program on the same account fires a burst straight at the API.
    const burst = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => outside.messages.create(ask(`outside ${i}`))));
    const answers = await Promise.all(paced);
    answers.forEach((m, i) => expect(textOf(m)).toBe(replyText(ask(`behind ${i}`))));
    const status = await proxy.status();
    console.log(`outside burst: ${burst.filter((r) => r.status === 'rejected').length} of 20 refused; proxy absorbed ${status.totals.upstreamRateLimited} upstream 429s`);
    expect(status.totals.upstreamRateLimited).toBeGreaterThan(0);
    expect(status.totals.clientRateLimited).toBe(0);
  });

  it('past --max-wait goes back to the client with its retry-after', async () => {
    const stub = await stubUpstream((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(rateLimited);
    });
    const proxy = await startProxy({ port: 0, upstream: stub.url, maxWaitMs: 5_000 });
    try {
      const err = await rejection(naiveClient(proxy).messages.create(ask('hello')));
      expect(err.status).toBe(429);
      expect(err.headers?.get('retry-after')).toBe('30');
      expect(stub.requests).toHaveLength(1);
      expect((await proxy.status()).totals).toMatchObject({ upstreamRateLimited: 1, clientRateLimited: 1 });
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });

  it("a request the limit holds past --max-wait gets the proxy's own 429, with retry-after, and is never sent", async () => {
    // A lenient API bucket (3 s of the limit): this test is about the proxy's hold, not the API's edge.
    fx.sim.setOptions({ rpm: 60, burstSeconds: 3 });
    const proxy = await fx.proxy({ maxWaitMs: 1_500 });
    const client = naiveClient(proxy);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => client.messages.create(ask(`q${i}`))));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as APIError);
    // At 1 a second, the first two or three go within 1.5 s; the rest would wait longer.
    expect(results.length - refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const err of refused) {
      expect(err.status).toBe(429);
      expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(err.message).toMatch(/claw-batch proxy: held this request 2s/);
    }
    expect(fx.sim.counters().requests).toBe(results.length - refused.length);
    expect(fx.sim.counters().rateLimited).toBe(0);
  });

  it('a spend-limit 429 is passed back at once, not retried', async () => {
    fx.sim.setOptions({ spendLimitAfter: 0 });
    const proxy = await fx.proxy();
    const err = await rejection(naiveClient(proxy).messages.create(ask('hello')));
    expect(err.status).toBe(429);
    expect(JSON.stringify(err.error)).toMatch(/enforced_spend_limit_reached/);
    expect(fx.sim.counters().requests).toBe(1);
    expect(fx.logs.join('\n')).toMatch(/upstream 429 rate_limit_error.*passed back/);
  });
});

describe('other error answers', () => {
  it('a 529 is passed back as it came (the client retries it if it wants), and logged', async () => {
    fx.sim.setOptions({ rate529: 1 });
    const proxy = await fx.proxy();
    const err = await rejection(naiveClient(proxy).messages.create(ask('hello')));
    expect(err.status).toBe(529);
    expect(JSON.stringify(err.error)).toMatch(/overloaded_error/);
    expect(err.headers?.get('request-id')).toMatch(/^req_sim/);
    expect(fx.logs.join('\n')).toMatch(/upstream 529 overloaded_error: Overloaded .*passed back as it came/);
  });

  it('a billing refusal (402) is passed back and logged', async () => {
    fx.sim.setOptions({ billingRefusalAfter: 0, billingRefusal: 'billing-error' });
    const proxy = await fx.proxy();
    const err = await rejection(naiveClient(proxy).messages.create(ask('hello')));
    expect(err.status).toBe(402);
    expect(fx.logs.join('\n')).toMatch(/upstream 402 billing_error/);
  });

  it('an unreachable upstream is a 502 in the API shape, which SDKs retry', async () => {
    const proxy = await startProxy({ port: 0, upstream: 'http://127.0.0.1:9' });
    try {
      const err = await rejection(naiveClient(proxy).messages.create(ask('hello')));
      expect(err.status).toBe(502);
      expect(err.message).toMatch(/claw-batch proxy: cannot reach the upstream http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
      expect((await proxy.status()).totals.unreachable).toBe(1);
    } finally {
      await proxy.close(0);
    }
  });
});
