/** Billing refusals and x-should-retry on every error answer. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rawPost, rejection, sdk } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('billing refusals', () => {
  it('answers credit-balance (the default) with the API 400 after billingRefusalAfter messages', async () => {
    sim = await startSimulator({ billingRefusalAfter: 2 });
    const client = sdk(sim);
    await client.messages.create(params('a'));
    await client.messages.create(params('b'));
    const err = await rejection(client.messages.create(params('c')));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      },
    });
    expect(err.headers?.get('x-should-retry')).toBe('false');
    expect(sim.counters()).toMatchObject({ succeeded: 2, status400: 1 });
  });

  it('answers workspace-limit with the 400 a user-set spend limit gets', async () => {
    sim = await startSimulator({ billingRefusalAfter: 0, billingRefusal: 'workspace-limit' });
    const err = await rejection(sdk(sim).messages.create(params('a')));
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: 'You have reached your specified workspace API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.',
      },
    });
  });

  it('answers billing-error with 402 billing_error', async () => {
    sim = await startSimulator({ billingRefusalAfter: 0, billingRefusal: 'billing-error' });
    const err = await rejection(sdk(sim).messages.create(params('a')));
    expect(err.status).toBe(402);
    expect(err.error).toMatchObject({ error: { type: 'billing_error', message: expect.stringMatching(/billing/) } });
    expect(err.headers?.get('x-should-retry')).toBe('false');
    expect(sim.counters().status402).toBe(1);
  });

  it('starts counting again when billingRefusalAfter is set anew', async () => {
    sim = await startSimulator({ billingRefusalAfter: 1 });
    const client = sdk(sim);
    await client.messages.create(params('a'));
    expect((await rejection(client.messages.create(params('b')))).status).toBe(400);
    sim.setOptions({ billingRefusalAfter: 1 });
    await expect(client.messages.create(params('c'))).resolves.toMatchObject({ type: 'message' });
    sim.setOptions({ billingRefusalAfter: undefined });
    await expect(client.messages.create(params('d'))).resolves.toMatchObject({ type: 'message' });
  });

  it('refuses an unknown billingRefusal, naming it', async () => {
    sim = await startSimulator();
    expect(() => sim!.setOptions({ billingRefusal: 'broke' as never })).toThrow(/`billingRefusal`.*`broke`/);
  });
});

describe('x-should-retry', () => {
  const shouldRetry = async (patch: Parameters<Simulator['setOptions']>[0], body: unknown = params('x')) => {
    sim!.setOptions(patch);
    const res = await rawPost(sim!, '/v1/messages', body, { 'x-api-key': 'k' });
    return [res.status, res.headers.get('x-should-retry')];
  };

  it('says true for rate limits, 500 and 529; false for the spend cap, billing and other 4xx', async () => {
    sim = await startSimulator({ rpm: 60 });
    await rawPost(sim, '/v1/messages', params('spend the one request'), { 'x-api-key': 'k' });
    expect(await shouldRetry({})).toEqual([429, 'true']);
    expect(await shouldRetry({ rpm: undefined, rate500: 1 })).toEqual([500, 'true']);
    expect(await shouldRetry({ rate500: 0, rate529: 1 })).toEqual([529, 'true']);
    expect(await shouldRetry({ rate529: 0, spendLimitAfter: 0 })).toEqual([429, 'false']);
    expect(await shouldRetry({ spendLimitAfter: undefined, billingRefusalAfter: 0 })).toEqual([400, 'false']);
    expect(await shouldRetry({ billingRefusalAfter: undefined }, { model: 'claude-haiku-4-5' })).toEqual([400, 'false']);
    expect(await shouldRetry({}, { ...params('x'), model: 'gpt-4' })).toEqual([404, 'false']);
    const unauthenticated = await rawPost(sim, '/v1/messages', params('x'));
    expect([unauthenticated.status, unauthenticated.headers.get('x-should-retry')]).toEqual([401, 'false']);
  });
});
