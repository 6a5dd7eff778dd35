/**
 * Estimates a request's input tokens before it is sent, so the ITPM budget can be reserved.
 * It starts from a deliberately high chars-per-token guess (over-reserving only slows the first
 * seconds) and calibrates itself from the `usage.input_tokens` the API reports.
 */
import type { MessageParams } from '../types.js';
import { promptChars } from '../input/index.js';

/** Prior: 1 token per 3 characters, worth 4,000 characters of evidence. */
const PRIOR_CHARS = 4_000;
const PRIOR_TOKENS_PER_CHAR = 1 / 3;
/** Fixed overhead per request, in tokens (role markers, system framing). */
const OVERHEAD_TOKENS = 8;

export class TokenEstimator {
  private chars = PRIOR_CHARS;
  private tokens = PRIOR_CHARS * PRIOR_TOKENS_PER_CHAR;

  charsOf(params: MessageParams): number {
    return promptChars(params);
  }

  /** Estimated input tokens for a request of `chars` characters. */
  estimate(chars: number): number {
    return Math.ceil(chars * (this.tokens / this.chars)) + OVERHEAD_TOKENS;
  }

  /** Learns from what the API counted for a request of `chars` characters. */
  observe(chars: number, inputTokens: number): void {
    if (!(inputTokens > 0) || chars <= 0) return;
    this.chars += chars;
    this.tokens += Math.max(0, inputTokens - OVERHEAD_TOKENS);
  }

  get tokensPerChar(): number {
    return this.tokens / this.chars;
  }
}
