/**
 * The output-token limit as the API enforces it in 2026: output counts as it is produced, and
 * `max_tokens` does not factor in. A request is admitted while the bucket is not in debt; each
 * answer then drains it linearly from the moment its output starts to the moment it ends.
 *
 * Production is accrued lazily: the bucket keeps the aggregate rate of the answers producing now
 * and a heap of the moments that rate changes, and settles everything up to `now` whenever it is
 * read. A read costs O(changes since the last read × log in-flight), not O(in-flight).
 */
import { MinHeap } from './min-heap.js';
import { EPSILON } from './token-bucket.js';

/** One answer's output, as the bucket charges it. */
export interface Production {
  readonly tokens: number;
  /** Epoch ms the output starts and ends; equal for an answer produced all at once. */
  readonly start: number;
  readonly end: number;
  /** Tokens per ms while producing. */
  readonly rate: number;
  state: 'pending' | 'producing' | 'done' | 'stopped';
}

const START = 0;
const END = 1;
/** An answer with no duration: charged whole at its start. */
const AT_ONCE = 2;

interface Change {
  at: number;
  kind: typeof START | typeof END | typeof AT_ONCE;
  production: Production;
}

/** Tokens of `p` produced by `now` (all of them once it has ended, none before it starts). */
export function producedBy(p: Pick<Production, 'tokens' | 'start' | 'end'>, now: number): number {
  if (now >= p.end) return p.tokens;
  if (now <= p.start) return 0;
  return (p.tokens * (now - p.start)) / (p.end - p.start);
}

export class OutputBucket {
  /** The per-minute limit, as reported in `anthropic-ratelimit-output-tokens-limit`. */
  readonly limitPerMinute: number;
  readonly capacity: number;
  private readonly perMs: number;
  private current: number;
  private updatedAt: number;
  /** Sum of the rates of the answers producing now, in tokens per ms. */
  private rate = 0;
  private producing = 0;
  private readonly changes = new MinHeap<Change>((c) => c.at);
  /**
   * When the current debt ends, as last worked out; valid until an answer is added or stopped
   * (nothing else changes the future), so a storm of refused requests costs one walk.
   */
  private debtEndsAt: number | undefined;

  constructor(limitPerMinute: number, burstSeconds: number, now = Date.now()) {
    this.limitPerMinute = limitPerMinute;
    this.perMs = limitPerMinute / 60_000;
    this.capacity = (limitPerMinute / 60) * burstSeconds;
    this.current = this.capacity;
    this.updatedAt = now;
  }

  /** Refill and drain at the current net rate up to `t`; exact because the rate is constant until `t`. */
  private flow(t: number): void {
    if (t > this.updatedAt) {
      this.current = Math.min(this.capacity, this.current + (t - this.updatedAt) * (this.perMs - this.rate));
      this.updatedAt = t;
    }
  }

  /** Settles every start, end and at-once charge up to `now`, in time order. */
  private advance(now: number): void {
    for (let next = this.changes.peek(); next && next.at <= now; next = this.changes.peek()) {
      this.changes.pop();
      const p = next.production;
      if (p.state === 'stopped') continue;
      this.flow(next.at);
      if (next.kind === START) {
        this.rate += p.rate;
        this.producing++;
        p.state = 'producing';
      } else if (next.kind === END) {
        this.endProducing(p);
        p.state = 'done';
      } else {
        this.current -= p.tokens;
        p.state = 'done';
      }
    }
    this.flow(now);
  }

  private endProducing(p: Production): void {
    this.producing--;
    // Float sums drift; with nothing producing the rate is exactly zero.
    this.rate = this.producing === 0 ? 0 : this.rate - p.rate;
  }

  /** Starts charging an answer of `tokens` produced evenly from `start` to `end` (epoch ms, `start` >= now). */
  produce(tokens: number, start: number, end: number, now: number): Production {
    this.advance(now);
    this.debtEndsAt = undefined;
    const from = Math.max(start, now);
    const to = Math.max(end, from);
    const production: Production = { tokens, start: from, end: to, rate: to > from ? tokens / (to - from) : 0, state: 'pending' };
    if (tokens <= 0) {
      production.state = 'done';
      return production;
    }
    if (to > from) {
      this.changes.push({ at: from, kind: START, production });
      this.changes.push({ at: to, kind: END, production });
    } else {
      this.changes.push({ at: from, kind: AT_ONCE, production });
    }
    this.advance(now);
    return production;
  }

  /** Stops an answer part-way (its client went away): what it has not produced yet is never charged. */
  stop(p: Production, now: number): void {
    this.advance(now);
    this.debtEndsAt = undefined;
    if (p.state === 'producing') this.endProducing(p);
    if (p.state !== 'done') p.state = 'stopped';
  }

  /** The exact level now; negative while the bucket is in debt. */
  level(now: number): number {
    this.advance(now);
    return this.current;
  }

  /** Whole tokens available now. */
  remaining(now: number): number {
    return Math.max(0, Math.floor(this.level(now) + EPSILON));
  }

  /** Epoch ms at which the bucket would be full again if nothing more were produced. */
  fullAt(now: number): number {
    return now + Math.max(0, this.capacity - this.level(now)) / this.perMs;
  }

  /**
   * Milliseconds until the bucket is out of debt, given the answers already producing (and those
   * admitted that start later); 0 if it is not in debt now. Walks the known rate changes in order.
   */
  waitMs(now: number): number {
    this.advance(now);
    if (this.current + EPSILON >= 0) return 0;
    if (this.debtEndsAt === undefined || this.debtEndsAt <= now) this.debtEndsAt = now + this.debtWalk(now);
    return this.debtEndsAt - now;
  }

  /** Ms until the level climbs back to 0, given the known starts and ends ahead. */
  private debtWalk(now: number): number {
    let level = this.current;
    let rate = this.rate;
    let t = now;
    const ahead = this.changes
      .toArray()
      .filter((c) => c.production.state !== 'stopped')
      .sort((a, b) => a.at - b.at);
    for (const change of ahead) {
      const slope = this.perMs - rate;
      if (slope > 0 && level + slope * (change.at - t) >= 0) return t + -level / slope - now;
      level += slope * (change.at - t);
      t = change.at;
      if (change.kind === START) rate += change.production.rate;
      else if (change.kind === END) rate -= change.production.rate;
      else level -= change.production.tokens;
    }
    return t + -level / this.perMs - now;
  }
}
