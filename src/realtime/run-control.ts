/**
 * When a real-time run stops, and what stopping means for the requests already out. Two signals:
 * - `noNewWork`: aborted by the first stop (Ctrl-C, a rejected key, a spend limit …): no item is
 *   taken or retried any more, waits for capacity end;
 * - `abandon`: aborted when the requests in flight must be given up — after a Ctrl-C's grace
 *   period, so a long answer cannot hold the run for minutes. Those items stay pending.
 * The first reason given is the one reported.
 */
import { setMaxListeners } from 'node:events';
import type { StoppedError } from '../errors.js';

export class RunControl {
  private readonly stopController = new AbortController();
  private readonly abandonController = new AbortController();
  private reason: StoppedError | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private outstanding = 0;
  private feederDone = false;
  private settle: () => void = () => {};
  /** Resolves once the feeder is done and every item it took has finished or stayed pending. */
  readonly settled: Promise<void>;

  constructor(private readonly onStop: (reason: StoppedError) => void = () => {}) {
    // Every waiting reservation, backoff and request listens: more than Node's default of 10.
    setMaxListeners(0, this.stopController.signal);
    setMaxListeners(0, this.abandonController.signal);
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
  }

  get noNewWork(): AbortSignal {
    return this.stopController.signal;
  }

  get abandon(): AbortSignal {
    return this.abandonController.signal;
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  get stopped(): StoppedError | undefined {
    return this.reason;
  }

  /**
   * Stops taking work. With `graceMs`, requests still in flight after that long are abandoned
   * (their items stay pending); without, they are allowed to finish.
   */
  requestStop(reason: StoppedError, options: { graceMs?: number } = {}): void {
    if (!this.reason) {
      this.reason = reason;
      this.onStop(reason);
    }
    this.stopController.abort();
    if (options.graceMs !== undefined && !this.graceTimer && !this.abandon.aborted) {
      this.graceTimer = setTimeout(() => this.abandonController.abort(), options.graceMs);
      this.graceTimer.unref();
    }
  }

  /** Gives up the requests in flight at once. */
  abandonInFlight(): void {
    this.abandonController.abort();
  }

  itemTaken(): void {
    this.outstanding += 1;
  }

  itemFinished(): void {
    this.outstanding -= 1;
    if (this.feederDone && this.outstanding === 0) this.settle();
  }

  feederFinished(): void {
    this.feederDone = true;
    if (this.outstanding === 0) this.settle();
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }
}
