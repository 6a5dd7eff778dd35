import { describe, expect, it } from 'vitest';
import { LiveRates } from '../../src/realtime/live-rates.js';

describe('LiveRates', () => {
  it('reads a steady 600 requests/min as 600, whatever the moment within a second', () => {
    for (const offset of [0, 1, 250, 500, 999]) {
      const rates = new LiveRates(10);
      const start = 1_000_000 * 1000;
      // 10 requests a second, evenly, for 30 s
      for (let t = 0; t < 30_000; t += 100) rates.record({ requests: 1 }, start + t);
      const now = start + 30_000 + offset;
      const rpm = rates.perMinute(start, now).requests;
      expect(rpm).toBeGreaterThan(600 * 0.9);
      expect(rpm).toBeLessThanOrEqual(600 * 1.0 + 1);
    }
  });

  it('reads a young run over at least 5 s, so the opening burst does not show as a rate above the limit', () => {
    const rates = new LiveRates(10);
    const start = 5_000_500;
    // 10 at once (a one-second bucket at 600/min), then nothing yet
    rates.record({ requests: 10 }, start + 100);
    expect(rates.perMinute(start, start + 1000).requests).toBeCloseTo(120);
    expect(rates.perMinute(start, start + 8000).requests).toBeCloseTo(75);
  });
});
