import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createProgress } from '../../src/ui/index.js';
import { emptyStats } from '../../src/ui/stats.js';
import { maskUrlPassword, registerSecret } from '../../src/secrets.js';
import { fakeStream } from './fake-stream.js';

const SECRET = 'test-key-4f9a1c77d2e0';
registerSecret(SECRET);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it('masks a registered secret in every print path, with and without a terminal', () => {
  for (const isTTY of [false, true]) {
    const stderr = fakeStream({ isTTY, columns: 300 });
    // The label reaches both the bar (TTY) and the status lines (plain).
    const progress = createProgress({ stderr, env: {}, label: `job-${SECRET}`, intervalMs: 10 });
    progress.update({ ...emptyStats(10), done: 3, succeeded: 3 });
    vi.advanceTimersByTime(25);
    progress.info(`info ${SECRET}`);
    progress.warn(`warn ${SECRET}`);
    progress.error(`error ${SECRET}`);
    progress.stop();
    const text = stderr.text();
    expect(text).not.toContain(SECRET);
    // Every path printed something, masked: label (status line or bar), info, warn, error.
    expect(text).toContain('job-[redacted]');
    for (const kind of ['info', 'warn', 'error']) expect(text).toContain(`${kind} [redacted]`);
  }
});

it('masks a store URL\'s password: in the userinfo, with an unencoded "/" or "@" in it, and in a password= parameter', () => {
  expect(maskUrlPassword('redis://user:s3cret@host:6379/0')).toBe('redis://user:***@host:6379/0');
  expect(maskUrlPassword('redis://:abc/defsecret@127.0.0.1:1')).toBe('redis://:***@127.0.0.1:1');
  expect(maskUrlPassword('redis://:p@ss@host:1')).not.toMatch(/ss@host.*p@|p@ss/);
  expect(maskUrlPassword('redis://:s3cretpw@host:6380/0?password=s3cretpw')).not.toContain('s3cretpw');
  expect(maskUrlPassword('redis://host:6380/0?password=s3cretpw&x=1')).toBe('redis://host:6380/0?password=***&x=1');
  expect(maskUrlPassword('redis://host:6380')).toBe('redis://host:6380');
});

