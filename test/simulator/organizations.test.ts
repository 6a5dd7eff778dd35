/**
 * The API's limits belong to the organization, not the key: keys of one organization share its
 * buckets, a workspace with limits of its own holds its keys to them while they still count against
 * the organization's, and another tool's traffic the client never sees spends them too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ORGANIZATION_ID, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('organizations', () => {
  it('names the organization in every answer: successes, 429s and the other endpoints', async () => {
    sim = await startSimulator({ rpm: 60 });
    const client = sdk(sim);
    const ok = await client.messages.create(params('one')).withResponse();
    expect(ok.response.headers.get('anthropic-organization-id')).toBe(DEFAULT_ORGANIZATION_ID);
    expect(ok.response.headers.get('anthropic-workspace-id')).toBeNull();
    const refused = await rejection(client.messages.create(params('two')));
    expect(refused.status).toBe(429);
    expect(refused.headers?.get('anthropic-organization-id')).toBe(DEFAULT_ORGANIZATION_ID);
    const list = await client.messages.batches.list().withResponse();
    expect(list.response.headers.get('anthropic-organization-id')).toBe(DEFAULT_ORGANIZATION_ID);
  });

  it('does not name an organization to a request without a key it accepts', async () => {
    sim = await startSimulator({ rejectKeys: ['bad-key'] });
    const res = await fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'bad-key', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('anthropic-organization-id')).toBeNull();
  });

  it('makes keys of one organization share its buckets, and keeps organizations apart', async () => {
    // One request a second per organization.
    sim = await startSimulator({
      rpm: 60,
      organizations: [
        { id: 'org-a', keys: ['a1', 'a2'] },
        { id: 'org-b', keys: ['b1'] },
      ],
    });
    const a1 = await sdk(sim, 'a1').messages.create(params('first')).withResponse();
    expect(a1.response.headers.get('anthropic-organization-id')).toBe('org-a');
    const a2 = await rejection(sdk(sim, 'a2').messages.create(params('second')));
    expect(a2.status).toBe(429);
    expect(a2.message).toMatch(/organization's rate limit of 60 requests per minute/);
    const b1 = await sdk(sim, 'b1').messages.create(params('third')).withResponse();
    expect(b1.response.headers.get('anthropic-organization-id')).toBe('org-b');
    // A key no organization lists is in the default one, which has buckets of its own.
    const other = await sdk(sim, 'someone-else').messages.create(params('fourth')).withResponse();
    expect(other.response.headers.get('anthropic-organization-id')).toBe(DEFAULT_ORGANIZATION_ID);
    const c = sim.counters();
    expect(c.byOrganization['org-a']).toMatchObject({ requests: 2, succeeded: 1, rateLimited: 1 });
    expect(c.byOrganization['org-b']).toMatchObject({ requests: 1, succeeded: 1, rateLimited: 0 });
    expect(c.byOrganization[DEFAULT_ORGANIZATION_ID]).toMatchObject({ requests: 1, succeeded: 1 });
  });

  it('gives an organization limits of its own over the top-level ones', async () => {
    sim = await startSimulator({ rpm: 60, organizations: [{ id: 'big', keys: ['k'], rpm: 6000 }] });
    const { response } = await sdk(sim, 'k').messages.create(params('x')).withResponse();
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('6000');
  });

  it('holds a workspace key to the workspace limit, shows it in the headers, and counts it against the organization', async () => {
    sim = await startSimulator({
      // A minute-long bucket refills a token every 6 s (the organization) and every 60 s (the
      // workspace): nothing comes back while the test runs, however slow the machine.
      rpm: 10,
      burstSeconds: 60,
      organizations: [{ id: 'org-w', keys: ['main'], workspaces: [{ id: 'wrkspc_low', keys: ['low'], rpm: 1 }] }],
    });
    const low = sdk(sim, 'low');
    const first = await low.messages.create(params('one')).withResponse();
    expect(first.response.headers.get('anthropic-organization-id')).toBe('org-w');
    expect(first.response.headers.get('anthropic-workspace-id')).toBe('wrkspc_low');
    expect(first.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('1');
    const second = await rejection(low.messages.create(params('two')));
    expect(second.status).toBe(429);
    expect(second.message).toMatch(/workspace's rate limit of 1 requests? per minute/);
    // The organization's bucket (10) took the workspace's request: 9 are left.
    const main = sdk(sim, 'main');
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => main.messages.create(params(`m${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    const mainHeaders = await rejection(main.messages.create(params('over')));
    expect(mainHeaders.headers?.get('anthropic-ratelimit-requests-limit')).toBe('10');
    expect(sim.counters().byOrganization['org-w/wrkspc_low']).toMatchObject({ succeeded: 1, rateLimited: 1 });
  });

  it('spends the organization budget with traffic the client never sees', async () => {
    sim = await startSimulator({ rpm: 600, burstSeconds: 1, unseenTraffic: { rpm: 1200 } });
    // The other tool asks for twice the limit: within a second it has emptied the bucket, keeps it
    // empty, and draws 429s of its own.
    await sleep(1500);
    const refused = await rejection(sdk(sim).messages.create(params('mine')));
    expect(refused.status).toBe(429);
    const c = sim.counters();
    expect(c.unseen.sent).toBeGreaterThan(0);
    expect(c.unseen.refused).toBeGreaterThan(0);
    sim.setOptions({ unseenTraffic: undefined });
    await sleep(1100);
    const sent = sim.counters().unseen.sent;
    await sdk(sim).messages.create(params('mine again'));
    await sleep(200);
    expect(sim.counters().unseen.sent).toBe(sent);
  });

  it('refuses organizations that list a key twice, unknown keys, and bad limits, naming them', async () => {
    await expect(startSimulator({ organizations: [{ id: 'a', keys: ['k'] }, { id: 'b', keys: ['k'] }] })).rejects.toThrow(/listed twice/);
    await expect(startSimulator({ organizations: [{ id: 'a', keys: ['k'], rpn: 5 } as never] })).rejects.toThrow(/Unknown key `rpn` in `organizations\[0\]`/);
    await expect(startSimulator({ organizations: [{ id: 'a', keys: ['k'], workspaces: [{ id: 'w', keys: ['j'], rpm: -1 }] }] })).rejects.toThrow(
      /`organizations\[0\]\.workspaces\[0\]\.rpm` to be a finite number > 0/,
    );
    await expect(startSimulator({ unseenTraffic: { rpm: 0 } })).rejects.toThrow(/`unseenTraffic\.rpm` to be a finite number > 0/);
  });
});
