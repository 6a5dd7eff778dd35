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
