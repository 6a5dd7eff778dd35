/**
 * Estimates a request's input tokens before it is sent, so the ITPM budget can be reserved. It
 * starts from a deliberately high chars-per-token guess (over-reserving only slows the first
 * seconds) and calibrates from what the API counted: `input_tokens + cache_creation_input_tokens +
 * cache_read_input_tokens` against the request's whole prompt, so caching does not skew it.
 * One per model class: tokenizers differ between model generations.
 */

/** Prior: 1 token per 3 characters, worth 4,000 characters of evidence. */
const PRIOR_CHARS = 4_000;
const PRIOR_TOKENS_PER_CHAR = 1 / 3;
/** Fixed overhead per request, in tokens (role markers, system framing). */
const OVERHEAD_TOKENS = 8;

export class InputEstimate {
  private chars = PRIOR_CHARS;
  private tokens = PRIOR_CHARS * PRIOR_TOKENS_PER_CHAR;

  /** Estimated tokens for `chars` characters of prompt (the overhead counted once per request). */
  estimate(chars: number): number {
    return Math.ceil(chars * (this.tokens / this.chars)) + OVERHEAD_TOKENS;
  }

  /** Learns from what the API counted for a whole prompt of `totalChars` characters. */
  observe(totalChars: number, usage: { input_tokens?: number | null; cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null }): void {
    const counted = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
    if (!(counted > 0) || totalChars <= 0) return;
    this.chars += totalChars;
    this.tokens += Math.max(0, counted - OVERHEAD_TOKENS);
  }

  get tokensPerChar(): number {
    return this.tokens / this.chars;
  }
}
