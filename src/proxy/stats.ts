/** What the proxy has done since it started, in total and per client (for the status page and the log). */

export interface ClientStats {
  /** Every request received from this client (any path). */
  requests: number;
  /** Messages requests held for their turn now. */
  queued: number;
  /** Requests sent upstream and not yet answered in full. */
  inFlight: number;
  /** Answered 2xx. */
  succeeded: number;
  /** Answered with an error status other than 429 (passed back as the upstream sent it). */
  errors: number;
  /** 429s this client received. */
  rateLimited: number;
  /** 429s from upstream that the proxy retried without the client seeing them. */
  retried: number;
  /** ms since epoch of its last request. */
  lastSeenAt: number;
}

export interface ProxyTotals {
  requests: number;
  /** POST /v1/messages requests, paced through the budgets. */
  messages: number;
  /** Other paths, forwarded without being charged. */
  forwarded: number;
  /** Answered 2xx. */
  succeeded: number;
  /** Answered with an error status other than 429 (passed back as the upstream sent it, or a 502 when it could not be reached). */
  errors: number;
  /** 429s the upstream answered. */
  upstreamRateLimited: number;
  /** 429s the clients received (after --max-wait, or a spend-limit 429). */
  clientRateLimited: number;
  /** Requests whose client went away before the answer was complete (the upstream request was aborted). */
  clientGone: number;
  /** Answers the upstream cut off, or left silent (no head, or a stalled stream), past the timeouts. */
  upstreamCut: number;
  /** Upstream could not be reached (answered 502 by the proxy). */
  unreachable: number;
  inputTokens: number;
  outputTokens: number;
}

/** Clients remembered at most; the longest idle are forgotten first. */
const MAX_CLIENTS = 1000;

export class ProxyStats {
  readonly startedAt = Date.now();
  readonly totals: ProxyTotals = {
    requests: 0,
    messages: 0,
    forwarded: 0,
    succeeded: 0,
    errors: 0,
    upstreamRateLimited: 0,
    clientRateLimited: 0,
    clientGone: 0,
    upstreamCut: 0,
    unreachable: 0,
    inputTokens: 0,
    outputTokens: 0,
  };
  private readonly clients = new Map<string, ClientStats>();

  client(id: string): ClientStats {
    let c = this.clients.get(id);
    if (c) {
      // Map order doubles as recency: the oldest entry is the one to forget.
      this.clients.delete(id);
    } else {
      c = { requests: 0, queued: 0, inFlight: 0, succeeded: 0, errors: 0, rateLimited: 0, retried: 0, lastSeenAt: 0 };
      if (this.clients.size >= MAX_CLIENTS) this.forgetIdle();
    }
    this.clients.set(id, c);
    c.lastSeenAt = Date.now();
    return c;
  }

  clientList(): Array<ClientStats & { id: string }> {
    return [...this.clients].map(([id, c]) => ({ id, ...c }));
  }

  private forgetIdle(): void {
    for (const [id, c] of this.clients) {
      if (c.queued === 0 && c.inFlight === 0) {
        this.clients.delete(id);
        return;
      }
    }
  }
}
