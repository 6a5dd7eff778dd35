/**
 * The random draws of one /v1/messages request. Every request takes the same draws in the same
 * order whatever the rates (the first five as before hang and stall existed), so a seed replays
 * the same faults and latencies.
 */
import type { ResolvedOptions } from './options.js';
import type { Random } from './random.js';

export interface FaultDraws {
  /** Connection destroyed without an answer. */
  drop: boolean;
  /** 529 `overloaded_error`. */
  overloaded: boolean;
  /** 500 `api_error`. */
  failed: boolean;
  /** Answer delayed by an extra `slowMs`. */
  slow: boolean;
  /** Latency offset in ms, within +/- `jitterMs`. */
  jitterMs: number;
  /** Accepted and never answered, until the client gives up. */
  hang: boolean;
  /** A stream that stops sending mid-answer without ending. */
  stall: boolean;
  /** A structured answer the schema refuses (`invalidStructuredRate`). */
  invalidStructured: boolean;
}

export function drawFaults(random: Random, opts: ResolvedOptions): FaultDraws {
  const drop = random() < opts.dropRate;
  const overloaded = random() < opts.rate529;
  const failed = random() < opts.rate500;
  const slow = random() < opts.slowRate;
  const jitterMs = (random() * 2 - 1) * opts.jitterMs;
  const hang = random() < opts.hangRate;
  const stall = random() < opts.stallRate;
  // Drawn only when asked for, so a seed recorded before this option existed replays the same faults.
  const invalidStructured = opts.invalidStructuredRate > 0 && random() < opts.invalidStructuredRate;
  return { drop, overloaded, failed, slow, jitterMs, hang, stall, invalidStructured };
}

/**
 * When an admitted answer's output is produced, in ms after admission. With
 * `outputTokensPerSecond`, latency (± jitter, + slowMs) is the time to the first token and output
 * follows at that rate; without it, output is spread over the whole latency. The answer ends when
 * its output does.
 */
export interface ResponseTiming {
  outputStartMs: number;
  outputEndMs: number;
}

export function responseTiming(draws: FaultDraws, opts: ResolvedOptions, outputTokens: number): ResponseTiming {
  const latency = latencyOf(draws, opts);
  if (opts.outputTokensPerSecond === undefined) return { outputStartMs: 0, outputEndMs: latency };
  return { outputStartMs: latency, outputEndMs: latency + (outputTokens / opts.outputTokensPerSecond) * 1000 };
}

/** Latency ± jitter, plus `slowMs` for a slow answer; also how long a faulted answer takes. */
export function latencyOf(draws: FaultDraws, opts: ResolvedOptions): number {
  return Math.max(0, opts.latencyMs + draws.jitterMs) + (draws.slow ? opts.slowMs : 0);
}
