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

  it('keeps the status line within the terminal width', () => {
    const stderr = fakeStream({ isTTY: true, columns: 40 });
    const progress = createProgress({ stderr, env: {} });
    progress.update(stats(10));
    progress.stop();
    // Too narrow for a bar: the numbers are drawn, cut at the width rather than wrapped.
    const drawn = stderr.chunks.filter((c) => c.includes('10/5,000'));
    expect(drawn.length).toBeGreaterThan(0);
    for (const chunk of drawn) expect(Array.from(chunk).length).toBeLessThan(40);
  });
});

describe('bar width', () => {
  it('shrinks the bar before dropping any number, down to no bar at all', async () => {
    const { barStatus } = await import('../../src/ui/status-line.js');
    const wide = barStatus(stats(1200), 'realtime', Date.now(), 200);
    const narrow = barStatus(stats(1200), 'realtime', Date.now(), 110);
    const tiny = barStatus(stats(1200), 'realtime', Date.now(), 90);
    expect(wide).toContain('█'.repeat(5) + '░'.repeat(15));
    expect(Array.from(narrow).length).toBe(108);
    expect(narrow).toMatch(/░ 1,200\/5,000 .* ETA 6m20s$/);
    expect(tiny).not.toMatch(/[█░]/);
    expect(tiny).toMatch(/^realtime 1,200\/5,000 .* ETA 6m20s$/);
  });
});
