import { describe, expect, it } from 'vitest';
import { InFlightSizer } from '../../src/realtime/in-flight.js';

describe('InFlightSizer', () => {
  it('sends one request alone until the first answer, then ramps toward pace x latency', () => {
    const s = new InFlightSizer({ ceiling: 1024 });
    expect(s.allowed(1000 / 60)).toBe(1);
    s.onStarted();
    expect(s.allowed(1000 / 60)).toBe(4);
    s.onStarted();
    expect(s.allowed(1000 / 60)).toBe(6);
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
