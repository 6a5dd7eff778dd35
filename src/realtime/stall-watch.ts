/**
 * Requests in flight and when each last heard from the API, so a run never waits silently on a
 * connection that is open but quiet: a notice when requests have had nothing for a while (the
 * per-request timeouts then retry them), and, on Ctrl-C, the stuck ones are given up at once
 * instead of waiting out their timeout. One listener on the run's `abandon` signal gives up every
 * request at once; a request only registers how it is aborted (no controller or listener of its
 * own: creating an AbortSignal per request costs more than the rest of the bookkeeping).
 */

export interface WatchedRequest {
  /** Something arrived (the first event, or any later one). */
  heard(): void;
  /** How to give the request up; called at once if the run has already given up everything. */
  onAbort(abort: () => void): void;
  /** The request ended, however. */
  end(): void;
}

interface Entry {
  lastHeardAt: number;
  abort?: () => void;
  aborted: boolean;
}

export class StallWatch {
  private readonly entries = new Set<Entry>();
  private noticed = false;
  private abandoned = false;

  constructor(abandon: AbortSignal, private readonly now: () => number = Date.now) {
    const giveUpAll = () => {
      this.abandoned = true;
      for (const e of this.entries) this.abortEntry(e);
    };
    if (abandon.aborted) giveUpAll();
    else abandon.addEventListener('abort', giveUpAll, { once: true });
  }

  /** Registers a request that starts now. */
  start(): WatchedRequest {
    const entry: Entry = { lastHeardAt: this.now(), aborted: this.abandoned };
    this.entries.add(entry);
    return {
      heard: () => {
        entry.lastHeardAt = this.now();
      },
      onAbort: (abort) => {
        entry.abort = abort;
        if (entry.aborted) abort();
      },
      end: () => {
        this.entries.delete(entry);
      },
    };
  }

  private abortEntry(e: Entry): void {
    e.aborted = true;
    e.abort?.();
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
        this.abortEntry(e);
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
