import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/ui/index.js';
import { emptyStats, type RunStats } from '../../src/ui/stats.js';
import { fakeStream } from './fake-stream.js';

const stats = (done: number): RunStats => ({
  ...emptyStats(5000, { rpm: 600, itpm: 80_000 }),
  done,
  succeeded: done - 20,
  errored: 20,
  rateLimited: 2,
  requestsPerMinute: 598,
  inputTokensPerMinute: 45_200,
  etaSeconds: 380,
});

describe('progress on a terminal', () => {
  it('draws a bar with counts, rates against the limits, 429s and ETA', () => {
    const stderr = fakeStream({ isTTY: true, columns: 200 });
    const progress = createProgress({ stderr, env: {}, label: 'realtime' });
    progress.update(stats(1200));
    progress.stop();
    const text = stderr.text();
    expect(text).toMatch(/realtime █+░+ 1,200\/5,000 · 1,180 ok · 20 err · req\/min 598\/600 · in\/min 45k\/80k · 2 429s · ETA 6m20s/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('prints info above the bar and draws the bar again below it', () => {
    const stderr = fakeStream({ isTTY: true, columns: 200 });
    const progress = createProgress({ stderr, env: {}, label: 'realtime' });
    progress.update(stats(1200));
    progress.info('learned limits from headers');
    const text = stderr.text();
    const at = text.indexOf('learned limits from headers\n');
    expect(at).toBeGreaterThan(0);
    // The bar's line is cleared (CSI 2K) before the message, and redrawn after it.
    expect(text.slice(0, at)).toContain('\x1b[2K');
    expect(text.slice(at)).toContain('1,200/5,000');
    progress.stop();
  });

  it('shows the ETA on an 80-column terminal', () => {
    const stderr = fakeStream({ isTTY: true, columns: 80 });
    const progress = createProgress({ stderr, env: {}, label: 'realtime' });
    progress.update({ ...stats(10), outputTokensPerMinute: 9_000 });
    progress.stop();
    const drawn = stderr.chunks.filter((c) => c.includes('10/5,000'));
    expect(drawn.length).toBeGreaterThan(0);
    for (const chunk of drawn) {
      expect(Array.from(chunk).length).toBeLessThan(80);
      expect(chunk).toMatch(/2 429s · ETA 6m20s$/);
    }
  });

  it('keeps the status line within the terminal width', () => {
    const stderr = fakeStream({ isTTY: true, columns: 40 });
    const progress = createProgress({ stderr, env: {} });
    progress.update(stats(10));
    progress.stop();
    // Too narrow for a bar: the numbers are drawn, cut at the width rather than wrapped.
    const drawn = stderr.chunks.filter((c) => c.includes('10/5k'));
    expect(drawn.length).toBeGreaterThan(0);
    for (const chunk of drawn) expect(Array.from(chunk).length).toBeLessThan(40);
  });
});

describe('bar width', () => {
  it('shrinks the bar before dropping any number', async () => {
    const { barStatus } = await import('../../src/ui/status-line.js');
    const wide = barStatus(stats(1200), 'realtime', Date.now(), 200);
    const narrow = barStatus(stats(1200), 'realtime', Date.now(), 110);
    expect(wide).toContain('█'.repeat(5) + '░'.repeat(15));
    expect(Array.from(narrow).length).toBe(108);
    expect(narrow).toMatch(/░ 1,200\/5,000 · 1,180 ok · 20 err · req\/min 598\/600 · in\/min 45k\/80k · 2 429s · ETA 6m20s$/);
  });

  it('keeps done/total, ok/err, req/min against the limit, 429s and ETA within 80 columns', async () => {
    const { barStatus } = await import('../../src/ui/status-line.js');
    const now = Date.now();
    // Token rates flowing with no token limit: what a run with only --rpm shows.
    const rpmOnly: RunStats = { ...stats(1200), limits: { rpm: 600 }, outputTokensPerMinute: 9_000 };
    const huge: RunStats = {
      ...emptyStats(1_000_000, { rpm: 4000, itpm: 2_000_000, otpm: 400_000 }),
      done: 123_456,
      succeeded: 123_000,
      errored: 456,
      rateLimited: 12_345,
      requestsPerMinute: 3990,
      inputTokensPerMinute: 1_234_567,
      outputTokensPerMinute: 234_567,
      etaSeconds: 7600,
    };
    const lines = [stats(1200), rpmOnly, huge].map((s) => barStatus(s, 'realtime', now, 80));
    for (const line of lines) {
      expect(Array.from(line).length).toBeLessThanOrEqual(78);
      expect(line).toMatch(/ · \d[\d,.kM]* ok · \d+ err · req\/min [\d.k]+\/[\d.k]+ · [\d,]+ 429s · ETA \w+$/);
    }
    // The token rates, then the label, go before the bar does.
    expect(lines[0]).toMatch(/^█{2}░{5} 1,200\/5,000 · 1,180 ok · 20 err · req\/min 598\/600 · 2 429s · ETA 6m20s$/);
    expect(lines[1]).toBe(lines[0]);
    expect(barStatus({ ...rpmOnly, done: 12, succeeded: 12, errored: 0 }, 'realtime', now, 80)).toBe(
      'realtime ░░░░░ 12/5,000 · 12 ok · 0 err · req/min 598/600 · 2 429s · ETA 6m20s',
    );
    // A million-item job: the counts go compact rather than push the ETA off the line.
    expect(lines[2]).toMatch(/^█+░+ 123k\/1M · 123k ok · 456 err · req\/min 4k\/4k · 12,345 429s · ETA 2h06m$/);
  });

  it('draws no bar when the numbers alone fill the terminal', async () => {
    const { barStatus } = await import('../../src/ui/status-line.js');
    const tiny = barStatus(stats(1200), 'realtime', Date.now(), 75);
    expect(tiny).not.toMatch(/[█░]/);
    expect(tiny).toBe('1,200/5,000 · 1,180 ok · 20 err · req/min 598/600 · 2 429s · ETA 6m20s');
  });
});
