/**
 * Requests in flight and when each last heard from the API, so a run never waits silently on a
 * connection that is open but quiet: a notice when requests have had nothing for a while (the
 * per-request timeouts then retry them), and, on Ctrl-C, the stuck ones are given up at once
 * instead of waiting out their timeout.
 */

export interface WatchedRequest {
  /** Aborted when the run gives this request up. */
  readonly signal: AbortSignal;
  /** Something arrived (the first event, or any later one). */
  heard(): void;
  /** The request ended, however. */
  end(): void;
}

interface Entry {
  lastHeardAt: number;
  controller: AbortController;
}

export class StallWatch {
  private readonly entries = new Set<Entry>();
  private noticed = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers a request that starts now; `abandon` gives every request up at once. */
  start(abandon: AbortSignal): WatchedRequest {
    const entry: Entry = { lastHeardAt: this.now(), controller: new AbortController() };
    const onAbandon = () => entry.controller.abort();
    if (abandon.aborted) entry.controller.abort();
    else abandon.addEventListener('abort', onAbandon, { once: true });
    this.entries.add(entry);
    return {
      signal: entry.controller.signal,
      heard: () => {
        entry.lastHeardAt = this.now();
      },
      end: () => {
        abandon.removeEventListener('abort', onAbandon);
        this.entries.delete(entry);
      },
    };
  }

  /** Requests that have heard nothing for at least `ms`. */
  quietFor(ms: number): number {
    const now = this.now();
    let n = 0;
    for (const e of this.entries) if (now - e.lastHeardAt >= ms) n += 1;
    return n;
  }

  /** The longest any request in flight has gone without a byte, in ms. */
  longestQuietMs(): number {
    const now = this.now();
    let longest = 0;
    for (const e of this.entries) longest = Math.max(longest, now - e.lastHeardAt);
    return longest;
  }

  /** Gives up the requests that have heard nothing for at least `ms`; returns how many. */
  abandonQuiet(ms: number): number {
    const now = this.now();
    let n = 0;
    for (const e of this.entries) {
      if (now - e.lastHeardAt >= ms) {
        e.controller.abort();
        n += 1;
      }
    }
    return n;
  }

  /**
   * The notice to print, once per episode, when requests have been quiet for `afterMs`:
   * undefined when there is nothing new to say.
   */
  notice(afterMs: number, timeoutMs: number): string | undefined {
    const quiet = this.quietFor(afterMs);
    if (quiet === 0) {
      this.noticed = false;
      return undefined;
    }
    if (this.noticed) return undefined;
    this.noticed = true;
    const s = Math.round(afterMs / 1000);
    const t = Math.round(timeoutMs / 1000);
    return `${quiet} request${quiet === 1 ? ' has' : 's have'} had no answer from the API for ${s}s; each is given up and retried after ${t}s without one (Ctrl-C stops now; those items stay pending)`;
  }
}
