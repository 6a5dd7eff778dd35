import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../src/ui/index.js';
import { emptyStats, type RunStats } from '../../src/ui/stats.js';
import { InvalidOptionError } from '../../src/errors.js';
import { fakeStream, logLines } from './fake-stream.js';

function midRun(): RunStats {
  return {
    ...emptyStats(5000, { rpm: 600 }),
    startedAt: Date.now(),
    done: 1200,
    succeeded: 1180,
    errored: 20,
    requestsPerMinute: 598,
    etaSeconds: 380,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('progress without a terminal', () => {
  it('prints one status line every intervalMs, and a final one at stop', () => {
    const stderr = fakeStream({ isTTY: false });
    const progress = createProgress({ stderr, env: {}, label: 'realtime', intervalMs: 10 });
    progress.update(midRun());
    expect(logLines(stderr)).toEqual([]);
    vi.advanceTimersByTime(35);
    const lines = logLines(stderr);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] realtime 1,200\/5,000 done · 1,180 ok · 20 err · req\/min 598\/600 · 0 429s · ETA 6m20s$/);
    progress.update({ ...midRun(), done: 5000, succeeded: 4980, etaSeconds: 0 });
    progress.stop();
    progress.stop();
    vi.advanceTimersByTime(100);
    const after = logLines(stderr);
    expect(after).toHaveLength(4);
    expect(after[3]).toContain('5,000/5,000 done · 4,980 ok · 20 err');
    // No terminal control codes in a log file.
    expect(stderr.text()).not.toContain('\x1b');
  });

  it('shows token rates only when a limit is known or tokens flow', () => {
    const stderr = fakeStream({ isTTY: false });
    const progress = createProgress({ stderr, env: {}, intervalMs: 10 });
    progress.update({ ...midRun(), limits: { rpm: 600, itpm: 80_000 }, inputTokensPerMinute: 45_200 });
    vi.advanceTimersByTime(10);
    progress.stop();
    const [line] = logLines(stderr);
    expect(line!.length).toBeLessThanOrEqual(100);
    expect(line).toContain('req/min 598/600 · in/min 45k/80k');
    expect(line).not.toContain('out/min');
  });

  it('keeps every line within 100 characters, shedding token rates and the label before any count, 429s or ETA', () => {
    const stderr = fakeStream({ isTTY: false });
    const progress = createProgress({ stderr, env: {}, label: 'realtime', intervalMs: 10 });
    const busy: RunStats = {
      ...emptyStats(1_000_000, { rpm: 4000, itpm: 2_000_000 }),
      done: 123_456,
      succeeded: 123_000,
      errored: 456,
      rateLimited: 12_345,
      requestsPerMinute: 3990,
      inputTokensPerMinute: 1_234_567,
      outputTokensPerMinute: 234_567,
      etaSeconds: 7600,
    };
    progress.update(busy);
    vi.advanceTimersByTime(10);
    progress.update({ ...midRun(), inputTokensPerMinute: 45_200, outputTokensPerMinute: 9_000 });
    vi.advanceTimersByTime(10);
    progress.stop();
    const [first, second] = logLines(stderr);
    expect(first!.length).toBeLessThanOrEqual(100);
    expect(first).toMatch(/^\[\d\d:\d\d:\d\d\] 123,456\/1,000,000 done · 123,000 ok · 456 err · req\/min 4k\/4k · 12,345 429s · ETA 2h06m$/);
    // Room for the label once the token rates with no limit are gone.
    expect(second).toMatch(/^\[\d\d:\d\d:\d\d\] realtime 1,200\/5,000 done · 1,180 ok · 20 err · req\/min 598\/600 · 0 429s · ETA 6m20s$/);
  });

  it('lets CLAW_BATCH_PROGRESS_INTERVAL_MS override the interval', () => {
    const stderr = fakeStream({ isTTY: false });
    const progress = createProgress({ stderr, env: { CLAW_BATCH_PROGRESS_INTERVAL_MS: '5' }, intervalMs: 10_000 });
    progress.update(midRun());
    vi.advanceTimersByTime(12);
    expect(logLines(stderr)).toHaveLength(2);
    progress.stop();
  });

  it('rejects a bad CLAW_BATCH_PROGRESS_INTERVAL_MS naming it and the value', () => {
    const env = { CLAW_BATCH_PROGRESS_INTERVAL_MS: 'soon' };
    expect(() => createProgress({ stderr: fakeStream(), env })).toThrow(InvalidOptionError);
    expect(() => createProgress({ stderr: fakeStream(), env })).toThrow(/CLAW_BATCH_PROGRESS_INTERVAL_MS.*`soon`/);
  });

  it('prints nothing at stop when no progress was ever reported', () => {
    const stderr = fakeStream({ isTTY: false });
    createProgress({ stderr, env: {} }).stop();
    expect(stderr.text()).toBe('');
  });

  it('prints info, warnings and errors as timestamped lines', () => {
    const stderr = fakeStream({ isTTY: false });
    const progress = createProgress({ stderr, env: {} });
    progress.info('using real-time: 300 items finish in 30s');
    progress.warn('item a1 retried');
    progress.error('item a2 failed');
    expect(logLines(stderr)).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] using real-time: 300 items finish in 30s$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] warning: item a1 retried$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] error: item a2 failed$/),
    ]);
  });

  it('quiet prints only errors', () => {
    for (const isTTY of [false, true]) {
      const stderr = fakeStream({ isTTY, columns: 120 });
      const progress = createProgress({ stderr, env: { NO_COLOR: '1' }, quiet: true, intervalMs: 10 });
      progress.update(midRun());
      progress.info('chatty');
      progress.warn('careful');
      vi.advanceTimersByTime(50);
      progress.error('broken');
      progress.stop();
      expect(stderr.text()).not.toMatch(/chatty|careful|done|█/);
      expect(stderr.text()).toMatch(/error: broken\n$/);
    }
  });
});
