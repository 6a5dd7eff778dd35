/**
 * How many requests of one model class may be in flight. The budget paces when requests start; the
 * number in flight only has to be large enough that the pace is never waiting for a free slot. By
 * Little's law that is the pace times the time an answer takes: 1,000 requests/min with 3 s answers
 * needs 50 in flight, 10,000/min needs 500. So the target follows the pace the limits allow and the
 * latency observed, with headroom for slower answers, under the `--concurrency` ceiling.
 *
 * A cold start ramps: one request alone until the API has answered (its headers confirm the
 * limits), then a few, growing with each answer that starts (about threefold per round trip), so a job does
 * not open hundreds of connections at once or jump from nothing to the full rate (the API punishes
 * sharp ramps). With no limit known at all (a gateway that strips the headers), the count grows by
 * one per success and halves on each 429.
 */

export interface InFlightOptions {
  /** `--concurrency` / `max_concurrent`: never more than this. */
  ceiling: number;
}

/** In flight after the first answer, before the ramp grows. */
const RAMP_START = 4;
/** Slots added per success while ramping (about threefold per round trip). */
const RAMP_STEP = 2;
/** Little's law gives the mean; answers vary, so keep this much more in flight. */
const HEADROOM = 1.5;
/** Weight of the newest latency in the running average. */
const LATENCY_WEIGHT = 0.1;

export class InFlightSizer {
  private readonly ceiling: number;
  private answered = false;
  private ramp = 1;
  /** Without limits: additive increase, multiplicative decrease. */
  private window = RAMP_START;
  private latencyMs: number | undefined;

  constructor(options: InFlightOptions) {
    this.ceiling = Math.max(1, options.ceiling);
  }

  /** The average time an answer takes, once there is one. */
  get latency(): number | undefined {
    return this.latencyMs;
  }

  /**
   * An answer started (its headers, or a stream's first event): the first one confirms the limits
   * and starts the ramp; each later one grows it. Growing on starts rather than on ends keeps a
   * job of long answers (tens of seconds each) from ramping at the pace of its slowest answers.
   */
  onStarted(): void {
    if (!this.answered) {
      this.answered = true;
      this.ramp = RAMP_START;
    } else {
      this.ramp += RAMP_STEP;
    }
  }

  /** An answer arrived after `latencyMs` (ok: a success, not an error answer). */
  onAnswer(latencyMs: number | undefined, ok: boolean): void {
    if (!this.answered) {
      this.onStarted();
    } else if (ok) {
      this.window += 1;
    }
    if (ok && latencyMs !== undefined && latencyMs >= 0) {
      this.latencyMs = this.latencyMs === undefined ? latencyMs : this.latencyMs + LATENCY_WEIGHT * (latencyMs - this.latencyMs);
    }
  }

  /** A 429 while no limit is known: back off. (With limits known, the budget's pause does the work.) */
  onRateLimitedWithoutLimits(): void {
    this.window = Math.max(1, Math.floor(this.window / 2));
  }

  /**
   * Requests allowed in flight now. `requestsPerSecond`: the pace the limits allow for this class,
   * or undefined when no limit is known.
   */
  allowed(requestsPerSecond: number | undefined): number {
    if (!this.answered) return 1;
    let target: number;
    if (requestsPerSecond === undefined) target = this.window;
    else {
      const latencySeconds = (this.latencyMs ?? 1000) / 1000;
      target = Math.ceil(requestsPerSecond * latencySeconds * HEADROOM) + 2;
    }
    return Math.max(1, Math.min(this.ceiling, target, this.ramp));
  }
}
