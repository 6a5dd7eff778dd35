import { describe, expect, it } from 'vitest';
import { InFlightSizer } from '../../src/realtime/in-flight.js';

describe('InFlightSizer', () => {
  it('sends one request alone until the first answer starts, then goes straight to pace x latency', () => {
    const s = new InFlightSizer({ ceiling: 1024 });
    expect(s.allowed(1000 / 60)).toBe(1);
    s.onStarted();
    // No answer timed yet: a generous 10 s (167 at 1,000/min, times 1.5, rounded up, plus 2), not a ramp from 4.
    expect(s.allowed(1000 / 60)).toBe(253);
    s.onAnswer(3000, true);
    // The first whole answer took 3 s: 50 in flight, times 1.5 headroom, plus 2.
    expect(s.allowed(1000 / 60)).toBe(77);
    for (let i = 0; i < 100; i++) {
      s.onStarted();
      s.onAnswer(3000, true);
    }
    // 1,000 requests/min with 3 s answers: 50 in flight, times 1.5 headroom, plus 2
    expect(s.allowed(1000 / 60)).toBe(77);
  });

  it('stays under the --concurrency ceiling', () => {
    const s = new InFlightSizer({ ceiling: 16 });
    for (let i = 0; i < 100; i++) {
      s.onStarted();
      s.onAnswer(3000, true);
    }
    expect(s.allowed(10_000 / 60)).toBe(16);
  });

  it('without any known limit grows by one per success and halves on a 429', () => {
    const s = new InFlightSizer({ ceiling: 1024 });
    s.onAnswer(100, true);
    for (let i = 0; i < 10; i++) {
      s.onStarted();
      s.onAnswer(100, true);
    }
    expect(s.allowed(undefined)).toBe(14);
    s.onRateLimitedWithoutLimits();
    expect(s.allowed(undefined)).toBe(7);
  });
});
