/**
 * Proxies on one limit store share the account's limit: two proxies (as on two machines, or two
 * terminals) each with their own naive clients, one SQLite store between them, one API limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openLimitStore } from '../../src/limits/open-store.js';
import type { LimitStore } from '../../src/limits/limit-store.js';
import { replyText } from '../../src/simulator/index.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { ask, naiveClient, textOf, useProxyFixture } from './helpers.js';

const fx = useProxyFixture({}, { rpm: undefined });
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('proxies on one shared limit store', () => {
  it('two proxies, 5 clients each, 120 requests at once against 1200 RPM: all succeed, <=1% 429s, at the limit', async () => {
    const rpm = 1200;
    fx.sim.setOptions({ rpm, burstSeconds: 1, latencyMs: 30 });
    const dir = tempDir();
    cleanup.push(async () => removeDir(dir));
    const stores: LimitStore[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await openLimitStore({ sharedLimits: 'local', stateDir: dir });
      stores.push(store);
      cleanup.push(() => store.close());
    }
    const proxies = await Promise.all(stores.map((store) => fx.proxy({ store })));
    const prompt = (p: number, c: number, i: number) => `proxy ${p} client ${c} item ${i}`;

    const started = performance.now();
    const answers = await Promise.all(
      proxies.flatMap((proxy, p) =>
        Array.from({ length: 5 }, (_, c) => naiveClient(proxy, { name: `agent-${c}` })).flatMap((client, c) =>
          Array.from({ length: 12 }, (_, i) => client.messages.create(ask(prompt(p, c, i))).then((m) => [textOf(m), replyText(ask(prompt(p, c, i)))])),
        ),
      ),
    );
    const ms = performance.now() - started;
    for (const [got, want] of answers) expect(got).toBe(want);
    const sim = fx.sim.counters();
    expect(sim.succeeded).toBe(120);
    expect(sim.rateLimited).toBeLessThanOrEqual(1);
    const ideal = (120 / rpm) * 60_000;
    console.log(`two proxies on one SQLite store: ${Math.round(ms)} ms for an ideal ${ideal} ms (${(ms / ideal).toFixed(3)}x), ${sim.rateLimited} 429s`);
    // Each proxy alone would have let out the whole limit: together they must not run at twice it.
    expect(ms / ideal).toBeGreaterThan(0.85);
    expect(ms / ideal).toBeLessThan(1.15);
  });
});
