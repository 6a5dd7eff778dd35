/** The proxy's options, their defaults, and what each one means. */
import type { GivenLimits } from '../limits/account-budget.js';
import type { LimitStore } from '../limits/limit-store.js';
import type { EventLog } from '../report/event-log.js';

export interface ProxyOptions {
  /** Port to listen on. Default 8787 (DEFAULT_PROXY_PORT); 0 picks a free one (read it back from `Proxy.port`). */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. Any address that is not loopback requires `token`. */
  host?: string;
  /** The API every request goes to, e.g. `https://api.anthropic.com` (the command's default; env `CLAW_BATCH_UPSTREAM`). */
  upstream: string;
  /** Ceilings from flags and config; the API's headers can only lower them. Default: none (learned). */
  given?: GivenLimits;
  /** Where the budgets live. Default: a MemoryStore (this process alone). */
  store?: LimitStore;
  /** The longest a request is held before it goes upstream (its turn, 429 pauses). Default 300,000 ms. */
  maxWaitMs?: number;
  /** The secret every client must send as `x-claw-token` (or `Proxy-Authorization: Bearer`). Default: none. */
  token?: string;
  /** Lent to clients that send no credential of their own, on a loopback address only. Default: none. */
  apiKey?: string;
  /**
   * ms the upstream may take to send an answer's head (a plain answer: plus 50 ms per max_tokens)
   * before the client gets a 504. Default 60,000 (the config's `first_byte_timeout_ms`).
   */
  firstByteTimeoutMs?: number;
  /** ms the upstream may stay silent mid-answer before the answer is cut off. Default 60,000 (`idle_timeout_ms`). */
  idleTimeoutMs?: number;
  /** ms to receive a request's headers. Default 30,000. */
  headersTimeoutMs?: number;
  /** ms to receive a whole request, body included (a slow or stalled sender is cut off). Default 120,000. */
  requestTimeoutMs?: number;
  /** ms an idle kept-alive client connection stays open. Default 5,000 (Node's). */
  keepAliveTimeoutMs?: number;
  /** ms between status lines (printed only when something happened). Default 10,000. */
  statusEveryMs?: number;
  /**
   * The proxy's event log: its numbers go in every second, `GET /_claw/report` draws it live, and
   * the status names that page. Default: none.
   */
  events?: EventLog;
  /** Where log lines go (each already redacted). Default: nowhere. */
  log?: (line: string) => void;
}

export const DEFAULT_PROXY_PORT = 8787;
export const DEFAULT_UPSTREAM = 'https://api.anthropic.com';
export const DEFAULT_MAX_WAIT_MS = 300_000;

export const DEFAULTS = {
  host: '127.0.0.1',
  maxWaitMs: DEFAULT_MAX_WAIT_MS,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  statusEveryMs: 10_000,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
} as const;
