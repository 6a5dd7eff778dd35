/**
 * How many output tokens a request of one model class will produce, learned from the usage seen so
 * far. The API counts output as it is produced and `max_tokens` does not factor in, so reserving
 * max_tokens would leave a 90k OTPM limit running one request at a time at max_tokens 4096. Instead
 * each request reserves a high percentile of recent outputs (capped at its own max_tokens), and the
 * settlement after the answer corrects it to the real count, so the long-run pace follows the real
 * output. Until there is data the estimate is conservative: max_tokens for the very first request
 * (which goes alone), then the largest output seen while there are only a few samples.
 */

/** Samples kept: enough for a stable 90th percentile, few enough to follow a change in the job. */
const WINDOW = 256;
/** Below this many samples, use the largest seen rather than a percentile. */
const FEW = 10;
const PERCENTILE = 0.9;

export class OutputEstimate {
  private readonly samples: number[] = [];
  private next = 0;
  private sum = 0;
  /** The same samples in order, kept so as each one comes and goes (sorting 256 per request showed in profiles). */
  private readonly sorted: number[] = [];

  /** Records a finished request's `usage.output_tokens`. */
  observe(outputTokens: number): void {
    if (!(outputTokens >= 0) || !Number.isFinite(outputTokens)) return;
    if (this.samples.length < WINDOW) this.samples.push(outputTokens);
    else {
      const old = this.samples[this.next]!;
      this.sum -= old;
      this.sorted.splice(lowerBound(this.sorted, old), 1);
      this.samples[this.next] = outputTokens;
      this.next = (this.next + 1) % WINDOW;
    }
    this.sum += outputTokens;
    this.sorted.splice(lowerBound(this.sorted, outputTokens), 0, outputTokens);
  }

  get count(): number {
    return this.samples.length;
  }

  /**
   * Output tokens to reserve for a request with this `max_tokens`. Before any answer: max_tokens,
   * capped at `priorCap` when given (one second of the output limit: a streamed answer that runs
   * longer is charged as it goes, so the cap cannot let a long answer through uncounted).
   */
  estimate(maxTokens: number, priorCap?: number): number {
    if (this.samples.length === 0) return Math.max(1, Math.min(maxTokens, priorCap ?? maxTokens));
    const sorted = this.sorted;
    const value =
      this.samples.length < FEW ? sorted[sorted.length - 1]! : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * PERCENTILE))]!;
    return Math.max(1, Math.min(maxTokens, value));
  }

  /** The mean output per request, for pacing and time estimates; undefined before any answer. */
  mean(): number | undefined {
    return this.samples.length === 0 ? undefined : this.sum / this.samples.length;
  }

}

/** The first index whose value is >= `x` in an ascending array. */
function lowerBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Output tokens from the characters a stream has delivered so far, calibrated by the answers that
 * ended (their `output_tokens` against their characters); about 4 characters a token before that.
 * Kept a little high, since charging too little while an answer runs lets in too much.
 */
export class OutputChars {
  private chars = 4_000;
  private tokens = 1_000;

  observe(chars: number, outputTokens: number): void {
    if (chars > 0 && outputTokens > 0) {
      this.chars += chars;
      this.tokens += outputTokens;
    }
  }

  tokensFor(chars: number): number {
    return Math.ceil((chars * this.tokens) / this.chars);
  }
}
