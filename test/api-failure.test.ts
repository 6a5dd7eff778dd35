import { describe, expect, it } from 'vitest';
import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import { backoffMs, classifyFailure } from '../src/api-failure.js';

function apiError(status: number, body: object, headers: Record<string, string> = {}) {
  return APIError.generate(status, { type: 'error', error: body }, undefined, new Headers(headers));
}

describe('classifyFailure', () => {
  it('429 rate_limit_error: pause with retry-after', () => {
    const a = classifyFailure(apiError(429, { type: 'rate_limit_error', message: 'slow down' }, { 'retry-after': '2' }));
    expect(a).toMatchObject({ kind: 'rate-limited', retryAfterMs: 2000 });
  });
  it('429 with enforced_spend_limit_reached: stop the run', () => {
    const a = classifyFailure(
      apiError(429, { type: 'rate_limit_error', message: 'spend', details: { error_code: 'enforced_spend_limit_reached' } }),
    );
    expect(a).toMatchObject({ kind: 'stop', reason: 'spend-limit' });
  });
  it('401 and 403 stop the run', () => {
    expect(classifyFailure(apiError(401, { type: 'authentication_error', message: 'bad key' }))).toMatchObject({ kind: 'stop', reason: 'auth' });
    expect(classifyFailure(apiError(403, { type: 'permission_error', message: 'no' }))).toMatchObject({ kind: 'stop', reason: 'auth' });
  });
  it('500, 529 and dropped connections are retried', () => {
    expect(classifyFailure(apiError(500, { type: 'api_error', message: 'x' }))).toMatchObject({ kind: 'transient', errorType: 'api_error' });
    expect(classifyFailure(apiError(529, { type: 'overloaded_error', message: 'x' }))).toMatchObject({ kind: 'transient', errorType: 'overloaded_error' });
    expect(classifyFailure(new APIConnectionError({ message: 'socket hang up' }))).toMatchObject({ kind: 'transient', maybeProcessed: true });
  });
  it('billing refusals stop the run: a spend limit set in the Console (400), a low credit balance (400), 402', () => {
    const workspace = apiError(400, { type: 'invalid_request_error', message: 'You have reached your specified workspace API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.' });
    expect(classifyFailure(workspace)).toMatchObject({ kind: 'stop', reason: 'spend-limit', message: expect.stringMatching(/spend limit set for this workspace/) });
    const org = apiError(400, { type: 'invalid_request_error', message: 'You have reached your specified API usage limits.' });
    expect(classifyFailure(org)).toMatchObject({ kind: 'stop', reason: 'spend-limit', message: expect.stringMatching(/organization/) });
    const credit = apiError(400, { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' });
    expect(classifyFailure(credit)).toMatchObject({ kind: 'stop', reason: 'billing', message: expect.stringMatching(/add credits/) });
    expect(classifyFailure(apiError(402, { type: 'billing_error', message: 'payment required' }))).toMatchObject({ kind: 'stop', reason: 'billing' });
  });
  it('x-should-retry overrides the status: false makes a 5xx the item’s error, true makes a 4xx a retry', () => {
    expect(classifyFailure(apiError(500, { type: 'api_error', message: 'x' }, { 'x-should-retry': 'false' }))).toMatchObject({ kind: 'item-error' });
    expect(classifyFailure(apiError(400, { type: 'invalid_request_error', message: 'x' }, { 'x-should-retry': 'true' }))).toMatchObject({ kind: 'transient' });
    expect(classifyFailure(apiError(529, { type: 'overloaded_error', message: 'x' }, { 'x-should-retry': 'true' }))).toMatchObject({ kind: 'transient' });
  });
  it('a stream that went silent is retried, counted as possibly processed; one we aborted ourselves stays pending', async () => {
    const { StalledError } = await import('../src/realtime/send-message.js');
    expect(classifyFailure(new StalledError('first-byte', 60_000))).toMatchObject({ kind: 'transient', errorType: 'api_timeout', maybeProcessed: true });
    const { APIUserAbortError } = await import('@anthropic-ai/sdk');
    expect(classifyFailure(new APIUserAbortError())).toEqual({ kind: 'aborted' });
  });
  it('other 4xx errors are the item’s own: no retry', () => {
    expect(classifyFailure(apiError(400, { type: 'invalid_request_error', message: 'bad' }))).toMatchObject({ kind: 'item-error', errorType: 'invalid_request_error' });
    expect(classifyFailure(apiError(404, { type: 'not_found_error', message: 'model: x' }))).toMatchObject({ kind: 'item-error', errorType: 'not_found_error' });
    expect(classifyFailure(apiError(413, { type: 'request_too_large', message: 'big' }))).toMatchObject({ kind: 'item-error' });
  });
});

describe('backoffMs', () => {
  it('grows exponentially with jitter and is capped at 30 s', () => {
    expect(backoffMs(1, { random: () => 0 })).toBe(250);
    expect(backoffMs(1, { random: () => 0.999 })).toBeLessThanOrEqual(500);
    expect(backoffMs(3, { random: () => 0 })).toBe(1000);
    expect(backoffMs(20, { random: () => 0.999 })).toBeLessThanOrEqual(30_000);
  });
});
