/**
 * `--max-cost`: the run stops cleanly before the requests it sends could take the spend past the
 * cap — the actual spend so far plus the worst case of every request in flight, this one included.
 * The worst case needs prices, which live in src/plan/ above this layer, so the command builds the
 * cap (src/plan/spend-cap.ts) and the scheduler only asks it. The cap is this invocation's: a rerun
 * counts from zero.
 */
import type { Item } from '../types.js';

/** Held by a request between `admit` and `release`. */
export interface SpendTicket {
  readonly worstUsd: number;
}

export interface SpendCap {
  /**
   * Before sending `item`: a ticket when it may go; `wait` when it would fit only once requests in
   * flight have ended (their actual cost is usually far below their worst case): resolves at the
   * next release; else, with nothing in flight, the sentence saying why the run stops.
   */
  admit(item: Item): { ticket: SpendTicket } | { wait: Promise<void> } | { stop: string };
  /** The request ended (its actual cost, if any, is already counted by the cost meter). */
  release(ticket: SpendTicket): void;
}
