/** Credentials: x-api-key or Authorization: Bearer; neither, or a rejected key, is a 401. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rawPost, rejection, sdk } from './sim-client.js';

const REJECTED = 'sk-ant-revoked-0123456789';
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ rejectKeys: [REJECTED] });
});
afterAll(() => sim.close());

describe('authentication', () => {
  it('accepts the SDK, which sends Authorization: Bearer', async () => {
    await expect(sdk(sim).messages.create(params('hi'))).resolves.toMatchObject({ type: 'message' });
  });

  it('accepts x-api-key', async () => {
    const res = await rawPost(sim, '/v1/messages', params('hi'), { 'x-api-key': 'some-key' });
    expect(res.status).toBe(200);
  });

  it('answers 401 authentication_error to a request with no key', async () => {
    const res = await rawPost(sim, '/v1/messages', params('hi'));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const batches = await fetch(`${sim.url}/v1/messages/batches`);
    expect(batches.status).toBe(401);
  });

  it('answers 401 to a rejected key without echoing it', async () => {
    const err = await rejection(sdk(sim, REJECTED).messages.create(params('hi')));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.error).toMatchObject({ error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    expect(JSON.stringify(err.error)).not.toContain(REJECTED);
    const viaHeader = await rawPost(sim, '/v1/messages', params('hi'), { 'x-api-key': REJECTED });
    expect(viaHeader.status).toBe(401);
    expect(sim.counters().status401).toBeGreaterThanOrEqual(2);
  });
});
