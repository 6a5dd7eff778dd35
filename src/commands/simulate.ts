import type { CommandContext } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface SimulateOptions {
  port?: number;
  host?: string;
  rpm?: number;
  itpm?: number;
  otpm?: number;
  /** Bucket capacity in seconds of limit. Default 1. */
  burstSeconds?: number;
  latencyMs?: number;
  jitterMs?: number;
  /** Fraction of requests that fail with a fault, split evenly over 500, 529 and dropped connections. */
  faultRate?: number;
  rate500?: number;
  rate529?: number;
  dropRate?: number;
  /** An API key to reject with 401. */
  rejectKey?: string;
  /** How long a batch takes to end, in ms. */
  batchMs?: number;
}

export async function simulate(_options: SimulateOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('simulate');
}
