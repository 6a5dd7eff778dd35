/** What the proxy shows of itself: the status page, and a plain line on stderr while anything happens. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORGANIZATION_ID } from '../../src/simulator/index.js';
import { ask, MODEL, naiveClient, sleep, useProxyFixture } from './helpers.js';

const fx = useProxyFixture({ rpm: 600, itpm: 100_000, otpm: 50_000 });

describe('the status page', () => {
  it('shows limits and levels per class, queued and in flight, 429s, and per-client counts, and never a key', async () => {
    const proxy = await fx.proxy();
    await Promise.all(['a', 'b'].map((name) => naiveClient(proxy, { name, apiKey: 'sk-ant-api03-status-page-key-0000' }).messages.create(ask(`from ${name}`))));
    const res = await fetch(`${proxy.url}/_claw/status`);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const text = await res.text();
    expect(text).not.toContain('sk-ant-api03-status-page-key');
    const status = JSON.parse(text);
    expect(status).toMatchObject({
      upstream: fx.sim.url,
      sharedLimits: 'this process',
      queued: 0,
      inFlight: 0,
      totals: { requests: 2, messages: 2, succeeded: 2, upstreamRateLimited: 0, clientRateLimited: 0 },
    });
    expect(status.classes).toEqual([
      {
        // The organization the simulator's answers name (every key in its default one).
        account: expect.stringMatching(/^org-[0-9a-f]{16}$/),
        organization: DEFAULT_ORGANIZATION_ID,
        workspace: null,
        keys: [expect.stringMatching(/^[0-9a-f]{16}$/)],
        modelClass: MODEL,
        limits: { rpm: 600, itpm: 100_000, otpm: 50_000 },
        levels: { requests: expect.any(Number), inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
        pausedForMs: 0,
        pace: 1,
        waitingFor: null,
        queued: 0,
        inFlight: 0,
      },
    ]);
    expect(status.clients.map((c: { id: string; succeeded: number }) => [c.id, c.succeeded])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('prints a plain line about every interval while something happens, and none while idle', async () => {
    const proxy = await fx.proxy({ statusEveryMs: 400 });
    await naiveClient(proxy).messages.create(ask('hello'));
    await sleep(500);
    expect(fx.logs).toHaveLength(1);
    expect(fx.logs[0]).toMatch(
      /^claw-batch proxy: last 0\.4s: 1 received, 1 answered; now 0 held, 0 in flight; 429s so far: 0 upstream, 0 to clients; claude-haiku-4-5 at 600 rpm\/100k itpm\/50k otpm$/,
    );
    await sleep(900);
    expect(fx.logs).toHaveLength(1);
  });
});
