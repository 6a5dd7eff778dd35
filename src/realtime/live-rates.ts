/**
 * Requests, tokens and finished items per minute over the last few seconds, for the progress
 * display and the ETA. Counts go into one-second slots so recording stays O(1) at any rate.
 */
export interface Counts {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  done: number;
}

interface Slot extends Counts {
  second: number;
}

const MIN_SPAN_MS = 5000;

export class LiveRates {
  private readonly slots: Slot[] = [];
  private readonly windowSeconds: number;

  constructor(windowSeconds = 10) {
    this.windowSeconds = windowSeconds;
  }

  record(counts: Partial<Counts>, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    let slot = this.slots[this.slots.length - 1];
    if (!slot || slot.second !== second) {
      slot = { second, requests: 0, inputTokens: 0, outputTokens: 0, done: 0 };
      this.slots.push(slot);
      while (this.slots.length > this.windowSeconds) this.slots.shift();
    }
    slot.requests += counts.requests ?? 0;
    slot.inputTokens += counts.inputTokens ?? 0;
    slot.outputTokens += counts.outputTokens ?? 0;
    slot.done += counts.done ?? 0;
  }

  /**
   * Per-minute rates over whole slots: the counts of the slots in the window, divided by the time
   * from the start of the oldest one counted (or the run's start, if later) until now.
   */
  perMinute(startedAt: number, now = Date.now()): Counts {
    const current = Math.floor(now / 1000);
    const sum: Counts = { requests: 0, inputTokens: 0, outputTokens: 0, done: 0 };
    let oldest = current;
    for (const s of this.slots) {
      if (s.second <= current - this.windowSeconds) continue;
      oldest = Math.min(oldest, s.second);
      sum.requests += s.requests;
      sum.inputTokens += s.inputTokens;
      sum.outputTokens += s.outputTokens;
      sum.done += s.done;
    }
    // At least a few seconds: the burst the API allows at the start would otherwise read as a
    // rate above the limit.
    const span = Math.max(MIN_SPAN_MS, now - Math.max(oldest * 1000, startedAt));
    const k = 60_000 / span;
    return { requests: sum.requests * k, inputTokens: sum.inputTokens * k, outputTokens: sum.outputTokens * k, done: sum.done * k };
  }
}
