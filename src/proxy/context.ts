/** What every request handler of one proxy shares. */
import type { Accounts } from './accounts.js';
import type { ProxyLog } from './log.js';
import type { ProxyStats } from './stats.js';
import type { Upstream } from './upstream.js';

export interface ProxyContext {
  upstream: Upstream;
  accounts: Accounts;
  stats: ProxyStats;
  log: ProxyLog;
  /** The longest a request is held before it is sent (its turn, 429 pauses, retries). */
  maxWaitMs: number;
  timeouts: UpstreamTimeouts;
  /** Aborted when the stop's grace has run out: requests still held get a 503 and are not sent. */
  shutdown: AbortSignal;
}

/** How long the upstream may stay silent on a Messages request before the proxy gives up on it. */
export interface UpstreamTimeouts {
  /** ms from sending to the answer's head (a plain answer gets 50 ms per max_tokens more). */
  firstByteMs: number;
  /** ms allowed between two chunks of an answer. */
  idleMs: number;
}

/** Who sent a request and with what credential (resolved once, in server.ts). */
export interface RequestIdentity {
  /** For the fair queue and the status page: `x-claw-client`, or a fingerprint of the credential. */
  client: string;
  /** The credential sent upstream (the client's, or the proxy's own key); undefined: none. */
  credential: string | undefined;
  /** The proxy's own key, when the client sent none and the proxy may lend it (loopback only). */
  lentKey: string | undefined;
}
