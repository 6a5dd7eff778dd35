/**
 * The Messages requests of one model class of one account, held until its budget admits them.
 * Requests wait in a fair queue (round-robin over clients); one at a time, in that order, the
 * lane estimates the next one's cost as the scheduler does (1 request, the uncached input tokens,
 * the learned output estimate — never max_tokens once an answer has been seen), waits for the
 * budget to take it, and lets it go.
 *
 * Until this class has answered once, one request goes alone: the budget knows no limit before the
 * API's headers report it, and ten agents' first requests fired together are what trips a 429
 * storm. If the answers carry no rate-limit headers at all (a gateway that strips them), the number
 * in flight grows by one per success and halves on each 429 instead.
 */
import type { ClassBudget } from '../limits/class-budget.js';
import { InputEstimate } from '../limits/input-estimate.js';
import { OutputEstimate } from '../limits/output-estimate.js';
import { PromptCacheTracker, type CachePlan, type WriteTicket } from '../limits/prompt-cache.js';
import type { Cost } from '../limits/types.js';
import { FairQueue } from './fair-queue.js';
import type { Usage } from './usage.js';

/** A request asking for its turn. */
export interface TurnRequest {
  client: string;
  plan: CachePlan;
  maxTokens: number;
  /** Aborts the wait (the client left, or --max-wait ran out). */
  signal: AbortSignal;
  /** Goes to the front of its client's line (it had its turn and was refused with a 429). */
  again?: boolean;
}

/** A request that may go: what was reserved for it. Hand it back with `done()`. */
export interface Turn {
  readonly cost: Cost;
  readonly write: WriteTicket | undefined;
  readonly plan: CachePlan;
  readonly sentAt: number;
}

interface Waiting extends TurnRequest {
  resolve(turn: Turn | undefined): void;
  settled: boolean;
  onAbort(): void;
}

/** Without rate-limit headers: in flight after the first answer, before it grows. */
const WINDOW_START = 4;
/** With limits known the budget paces; this only bounds the sockets one class may hold open. */
const MAX_IN_FLIGHT = 1024;

export class MessageLane {
  readonly budget: ClassBudget;
  readonly input = new InputEstimate();
  readonly output = new OutputEstimate();
  readonly cache = new PromptCacheTracker();
  private readonly queue = new FairQueue<Waiting>();
  private parked = 0;
  private sent = 0;
  private answered = false;
  private window = WINDOW_START;
  private running = false;
  private wake: (() => void) | undefined;

  constructor(budget: ClassBudget) {
    this.budget = budget;
  }

  get modelClass(): string {
    return this.budget.key.modelClass;
  }

  /** Requests waiting for their turn (including those waiting for a prompt prefix to be cached). */
  get queued(): number {
    return this.queue.size + this.parked;
  }

  /** Requests sent upstream and not yet done. */
  get inFlight(): number {
    return this.sent;
  }

  /** Waits for the request's turn and its budget. Resolves undefined when its signal aborts first. */
  turn(request: TurnRequest): Promise<Turn | undefined> {
    return new Promise((resolve) => {
      if (request.signal.aborted) return resolve(undefined);
      const waiting: Waiting = { ...request, resolve, settled: false, onAbort: () => this.giveUp(waiting) };
      request.signal.addEventListener('abort', waiting.onAbort, { once: true });
      if (request.again) this.queue.unshift(request.client, waiting);
      else this.queue.push(request.client, waiting);
      void this.pump();
    });
  }

  /**
   * The upstream answered: `limitsReported` when its headers carried rate limits, `ok` for a
   * success, `rateLimited` for a 429. The cold start ends with the first answer that reports the
   * limits, or with a success that does not (the headers are stripped on the way: pace by the
   * window instead). A 529 or 5xx without headers says nothing yet.
   */
  answer(outcome: { limitsReported: boolean; ok: boolean; rateLimited: boolean }): void {
    if (outcome.limitsReported || outcome.ok) this.answered = true;
    if (outcome.ok) this.window += 1;
    if (outcome.rateLimited) this.window = Math.max(1, Math.floor(this.window / 2));
  }

  /** Learns from a finished answer's usage (prompt size, output, cache) before `done()`. */
  learn(turn: Turn, usage: Usage): void {
    this.input.observe(turn.plan.totalChars, usage);
    if (usage.output_tokens !== undefined) this.output.observe(usage.output_tokens);
    this.cache.onAnswer(turn.plan, turn.sentAt, usage, turn.write);
  }

  /** The request is over (answered, failed, or cut off): its slot is free. */
  done(turn: Turn): void {
    this.cache.onFailure(turn.write);
    this.sent -= 1;
    this.wake?.();
  }

  private giveUp(waiting: Waiting): void {
    this.queue.remove(waiting.client, waiting);
    this.settle(waiting, undefined);
  }

  private settle(waiting: Waiting, turn: Turn | undefined): void {
    if (waiting.settled) return;
    waiting.settled = true;
    waiting.signal.removeEventListener('abort', waiting.onAbort);
    waiting.resolve(turn);
  }

  private hasRoom(): boolean {
    if (!this.answered) return this.sent === 0;
    if (!this.budget.hasLimits) return this.sent < this.window;
    return this.sent < MAX_IN_FLIGHT;
  }

  /** Serves the queue one request at a time, in turn, while it has any. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (this.queue.size === 0) return;
        if (!this.hasRoom()) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        const waiting = this.queue.shift()!;
        await this.admit(waiting);
      }
    } finally {
      this.running = false;
    }
  }

  private async admit(waiting: Waiting): Promise<void> {
    if (waiting.settled) return;
    const admission = this.cache.admit(waiting.plan);
    if (!admission.go) {
      // Another request is writing this prompt's prefix to the cache: once it is readable this one
      // costs far less input. Its turn is kept for it meanwhile.
      this.parked += 1;
      void admission.ready.then(() => {
        this.parked -= 1;
        if (waiting.settled) return;
        this.queue.unshift(waiting.client, waiting);
        void this.pump();
      });
      return;
    }
    const cost: Cost = {
      requests: 1,
      inputTokens: this.input.estimate(admission.uncachedChars),
      outputTokens: this.output.estimate(waiting.maxTokens),
    };
    const reserved = await this.budget.reserve(cost, waiting.signal).catch(() => false);
    if (!reserved || waiting.settled) {
      if (reserved) await this.budget.refund(cost, { request: true });
      this.cache.onFailure(admission.write);
      this.settle(waiting, undefined);
      return;
    }
    this.sent += 1;
    this.settle(waiting, { cost, write: admission.write, plan: waiting.plan, sentAt: Date.now() });
  }
}
