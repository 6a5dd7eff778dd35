/**
 * What passes through the proxy unchanged and what it keeps to itself: the client's headers and
 * credential go upstream as they are (the proxy's own headers do not), the upstream's rate-limit
 * headers and request id come back, other API paths are forwarded without being charged, and a
 * client with no key borrows the proxy's only on a loopback address.
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { ask, MODEL, naiveClient, stubUpstream, textOf, useProxyFixture } from './helpers.js';
import { replyText, simulatedMessage } from '../../src/simulator/index.js';
import { startProxy } from '../../src/proxy/index.js';

const fx = useProxyFixture({ rpm: 6000 });

const okStub = () =>
  stubUpstream((req, res) => {
    const body = req.method === 'POST' && req.url.startsWith('/v1/messages') ? JSON.stringify(simulatedMessage(JSON.parse(req.body))) : '{"data":[]}';
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_stub' });
    res.end(body);
  });

describe('headers and credentials', () => {
  it("forwards anthropic-version, anthropic-beta and the client's own credential as they are, never the proxy's own headers", async () => {
    const stub = await okStub();
    const proxy = await startProxy({ port: 0, upstream: `${stub.url}/base/`, token: 'a-long-token', apiKey: 'sk-ant-proxy-key-000' });
    try {
      const client = new Anthropic({
        apiKey: 'client-key-1',
        baseURL: proxy.url,
        maxRetries: 0,
        defaultHeaders: { 'anthropic-beta': 'some-beta-2026', 'x-claw-client': 'agent-7', 'x-claw-token': 'a-long-token' },
      });
      await client.messages.create(ask('hello'));
      const [seen] = stub.requests;
      expect(seen!.url).toBe('/base/v1/messages');
      expect(seen!.headers).toMatchObject({ 'anthropic-version': expect.any(String), 'anthropic-beta': 'some-beta-2026', authorization: 'Bearer client-key-1' });
      expect(seen!.headers['x-api-key']).toBeUndefined();
      expect(seen!.headers['x-claw-client']).toBeUndefined();
      expect(seen!.headers['x-claw-token']).toBeUndefined();
      expect(seen!.headers.host).toBe(new URL(stub.url).host);
      expect(JSON.parse(seen!.body)).toEqual(ask('hello'));
      expect((await proxy.status()).clients.map((c) => c.id)).toEqual(['agent-7']);
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });

  it("returns the upstream's anthropic-ratelimit-* headers and request-id", async () => {
    const proxy = await fx.proxy();
    const { data, response } = await naiveClient(proxy).messages.create(ask('hello')).withResponse();
    expect(textOf(data)).toBe(replyText(ask('hello')));
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('6000');
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toMatch(/^\d+$/);
    expect(response.headers.get('request-id')).toMatch(/^req_sim/);
  });

  it('lends its own key to a client that sends none, on a loopback address', async () => {
    const stub = await okStub();
    const proxy = await startProxy({ port: 0, upstream: stub.url, apiKey: 'sk-ant-proxy-key-000' });
    try {
      const keyless = new Anthropic({ apiKey: null, baseURL: proxy.url, maxRetries: 0, defaultHeaders: { authorization: null } });
      await keyless.messages.create(ask('hello'));
      expect(stub.requests[0]!.headers['x-api-key']).toBe('sk-ant-proxy-key-000');
      expect(stub.requests[0]!.headers.authorization).toBeUndefined();
      expect((await proxy.status()).clients.map((c) => c.id)).toEqual(['anonymous']);
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });

  it('never lends its key on a non-loopback address', async () => {
    const stub = await okStub();
    const proxy = await startProxy({ port: 0, host: '0.0.0.0', upstream: stub.url, apiKey: 'sk-ant-proxy-key-000', token: 'a-long-token' });
    try {
      expect(proxy.lendsKey).toBe(false);
      const res = await fetch(`http://127.0.0.1:${proxy.port}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-claw-token': 'a-long-token' },
        body: JSON.stringify(ask('hello')),
      });
      expect(res.status).toBe(200);
      expect(stub.requests[0]!.headers['x-api-key']).toBeUndefined();
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });
});

describe('other paths', () => {
  it('forwards count_tokens and the Batches API unchanged, and charges neither to the Messages budget', async () => {
    const proxy = await fx.proxy();
    const client = naiveClient(proxy);
    const counted = await client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const batch = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: ask('hello') }] });
    expect((await client.messages.batches.retrieve(batch.id)).id).toBe(batch.id);
    const status = await proxy.status();
    expect(status.classes).toEqual([]);
    expect(status.totals).toMatchObject({ forwarded: 3, messages: 0 });
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('answers a path outside /v1 itself with a 404, and never forwards an absolute-form target elsewhere', async () => {
    const stub = await okStub();
    const proxy = await startProxy({ port: 0, upstream: stub.url });
    try {
      const res = await fetch(`${proxy.url}/admin`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not an API path/);
      // `GET http://elsewhere.example/v1/models HTTP/1.1`: only the path counts.
      const raw = await rawRequest(proxy.port, 'GET http://elsewhere.example/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect(raw).toMatch(/^HTTP\/1\.1 200/);
      expect(stub.requests.map((r) => [r.url, r.headers.host])).toEqual([['/v1/models', new URL(stub.url).host]]);
    } finally {
      await proxy.close(0);
      await stub.close();
    }
  });
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.setEncoding('utf8').on('data', (d: string) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('who may ask', () => {
  it('on a non-loopback address, refuses a client without the token, and takes it as x-claw-token or Proxy-Authorization', async () => {
    const proxy = await fx.proxy({ host: '0.0.0.0', token: 'a-long-token' });
    const url = `http://127.0.0.1:${proxy.port}`;
    const without = new Anthropic({ apiKey: 'test-key', baseURL: url, maxRetries: 0 });
    await expect(without.messages.create(ask('hello'))).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/x-claw-token/) });
    const wrong = new Anthropic({ apiKey: 'test-key', baseURL: url, maxRetries: 0, defaultHeaders: { 'x-claw-token': 'a-wrong-token' } });
    await expect(wrong.messages.create(ask('hello'))).rejects.toMatchObject({ status: 401 });
    for (const headers of [{ 'x-claw-token': 'a-long-token' }, { 'proxy-authorization': 'Bearer a-long-token' }]) {
      const ok = new Anthropic({ apiKey: 'test-key', baseURL: url, maxRetries: 0, defaultHeaders: headers });
      expect(textOf(await ok.messages.create(ask('hello')))).toBe(replyText(ask('hello')));
    }
    expect(fx.sim.counters().requests).toBe(2);
    const status = await fetch(`${url}/_claw/status`);
    expect(status.status).toBe(401);
  });

  it('refuses a request addressed to another name (DNS rebinding) and any request from a web page', async () => {
    const proxy = await fx.proxy();
    const rebound = await rawRequest(proxy.port, 'GET /v1/models HTTP/1.1\r\nHost: evil.example:8787\r\nConnection: close\r\n\r\n');
    expect(rebound).toMatch(/^HTTP\/1\.1 403/);
    const page = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain', 'x-api-key': 'test-key' },
      body: JSON.stringify(ask('hello')),
    });
    expect(page.status).toBe(403);
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('answers a body over 32 MB with 413 request_too_large without sending it', async () => {
    const proxy = await fx.proxy();
    const big = Buffer.alloc(32 * 1024 * 1024 + 1, 'a');
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'test-key' }, body: big });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('request_too_large');
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('cuts off a client that never finishes its headers', async () => {
    const proxy = await fx.proxy({ headersTimeoutMs: 300 });
    const started = Date.now();
    const raw = await rawRequest(proxy.port, 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(Date.now() - started).toBeLessThan(2500);
    expect(raw).toMatch(/^HTTP\/1\.1 408|^$/);
  });
});
