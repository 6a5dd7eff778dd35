import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createProgress } from '../../src/ui/index.js';
import { emptyStats } from '../../src/ui/stats.js';
import { registerSecret } from '../../src/secrets.js';
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
