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
      while (this.slots.length > this.windowSeconds + 1) this.slots.shift();
    }
    slot.requests += counts.requests ?? 0;
    slot.inputTokens += counts.inputTokens ?? 0;
    slot.outputTokens += counts.outputTokens ?? 0;
    slot.done += counts.done ?? 0;
  }

  /** Per-minute rates over the window (or since `startedAt` when the run is younger than it). */
  perMinute(startedAt: number, now = Date.now()): Counts {
    const from = now - this.windowSeconds * 1000;
    const span = Math.max(1000, now - Math.max(from, startedAt));
    const sum: Counts = { requests: 0, inputTokens: 0, outputTokens: 0, done: 0 };
    for (const s of this.slots) {
      if ((s.second + 1) * 1000 <= from) continue;
      sum.requests += s.requests;
      sum.inputTokens += s.inputTokens;
      sum.outputTokens += s.outputTokens;
      sum.done += s.done;
    }
    const k = 60_000 / span;
    return { requests: sum.requests * k, inputTokens: sum.inputTokens * k, outputTokens: sum.outputTokens * k, done: sum.done * k };
  }
}
