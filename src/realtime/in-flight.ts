/**
 * How many requests of one model class may be in flight. The budget paces when requests start; the
 * number in flight only has to be large enough that the pace is never waiting for a free slot. By
 * Little's law that is the pace times the time an answer takes: 1,000 requests/min with 3 s answers
 * needs 50 in flight, 10,000/min needs 500. So the target follows the pace the limits allow and the
 * latency observed, with headroom for slower answers, under the `--concurrency` ceiling.
 *
 * A cold start sends one request alone until the API has answered: its headers give the limits
 * and what remains. From then on the target is what Little's law asks at once — the budget already
 * paces when requests start, so a larger count only lets the pace run, it does not burst. Until a
 * whole answer has been timed the latency is taken as generous (PROVISIONAL_LATENCY_MS): too many
 * slots for a moment cost nothing, too few hold a short job at a fraction of its pace while a slow
 * ramp catches up (300 items at 1,200 RPM ran at a third of the limit for their first ~8 s).
 * With no limit known at all (a gateway that strips the headers), the count starts at a few, grows
 * by one per success and halves on each 429.
 */

export interface InFlightOptions {
  /** `--concurrency` / `max_concurrent`: never more than this. */
  ceiling: number;
}

/** In flight after the first answer when no limit is known (then one more per success). */
const WINDOW_START = 4;
/** The latency assumed until a whole answer has been timed: longer than most answers take. */
const PROVISIONAL_LATENCY_MS = 10_000;
/** Little's law gives the mean; answers vary, so keep this much more in flight. */
const HEADROOM = 1.5;
/** Weight of the newest latency in the running average. */
const LATENCY_WEIGHT = 0.1;

export class InFlightSizer {
  private readonly ceiling: number;
  private answered = false;
  /** Without limits: additive increase, multiplicative decrease. */
  private window = WINDOW_START;
  private latencyMs: number | undefined;

  constructor(options: InFlightOptions) {
    this.ceiling = Math.max(1, options.ceiling);
  }

  /** The average time an answer takes, once there is one. */
  get latency(): number | undefined {
    return this.latencyMs;
  }

  /**
   * An answer started (its headers, or a stream's first event): the first one confirms the limits,
   * and the count goes to its target without waiting for the whole answer (which may take tens of
   * seconds).
   */
  onStarted(): void {
    this.answered = true;
  }

  /** An answer arrived after `latencyMs` (ok: a success, not an error answer). */
  onAnswer(latencyMs: number | undefined, ok: boolean): void {
    if (!this.answered) this.answered = true;
    else if (ok) this.window += 1;
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
      const latencySeconds = (this.latencyMs ?? PROVISIONAL_LATENCY_MS) / 1000;
      target = Math.ceil(requestsPerSecond * latencySeconds * HEADROOM) + 2;
    }
    return Math.max(1, Math.min(this.ceiling, target));
  }
}
