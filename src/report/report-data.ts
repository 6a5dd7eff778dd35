/**
 * What the report page shows, worked out from an event log: the series of each chart (at most
 * MAX_POINTS points, so a day-long run draws as fast as a minute-long one), the peaks and totals,
 * errors by type with examples, and the plan beside what happened. The page gets this as one JSON
 * blob; the numbers in its text come from here too, so a test can check them against the log.
 */
import type { EventLogHeader, EventRow } from './event-log.js';
import type { EventLogContents } from './read-event-log.js';

/** Points per chart at most: a 200k-item run's ~5,000 rows become this many. */
export const MAX_POINTS = 1_200;
/** Point widths the series are merged into (seconds): the smallest that keeps under MAX_POINTS. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

export interface ReportSeries {
  /** Unix seconds of each point's start. */
  t: number[];
  /** Per minute over each point's interval. */
  requests: number[];
  answers: number[];
  inputTokens: number[];
  outputTokens: number[];
  /** The limits in force (null where none was known). */
  rpm: Array<number | null>;
  itpm: Array<number | null>;
  otpm: Array<number | null>;
  /** The most in flight within the point. */
  inFlight: number[];
  /** Counts within the point. */
  rateLimited: number[];
  retried: number[];
  faults: number[];
  /** ms, weighted by answers; null where nothing answered. */
  p50: Array<number | null>;
  p90: Array<number | null>;
  /** Running totals at the point's end. */
  usd: Array<number | null>;
  done: number[];
  /** Batch jobs: requests the batches were still processing. */
  batchProcessing: Array<number | null>;
}

export interface ErrorTypeRow {
  type: string;
  /** Failures of this type that were retried (429s, 5xx …). */
  retried: number;
  /** Items written as errored with it. */
  errored: number;
  examples: Array<{ custom_id: string; message: string }>;
}

/** The run as its log's header names it, and what the page shows of it. */
export interface ReportData extends Pick<EventLogHeader, 'id' | 'command' | 'mode' | 'startedAt' | 'output' | 'input' | 'items' | 'plan'> {
  /** Seconds the log covers. */
  seconds: number;
  ended: boolean;
  stepSeconds: number;
  series: ReportSeries;
  peaks: { requestsPerMinute: number; inputTokensPerMinute: number; outputTokensPerMinute: number; inFlight: number; p90: number | null };
  totals: { requests: number; answers: number; errored: number; rateLimited: number; retried: number; faults: number; inputTokens: number; outputTokens: number; usd: number | null; done: number };
  errors: ErrorTypeRow[];
  marks: Array<{ t: number; text: string }>;
  summary?: Record<string, unknown>;
}

export function stepFor(seconds: number, rows: EventRow[]): number {
  const widest = rows.reduce((m, r) => Math.max(m, r.s), 1);
  return STEPS.find((s) => s >= widest && seconds / s <= MAX_POINTS) ?? STEPS[STEPS.length - 1]!;
}

export function reportData(log: EventLogContents): ReportData {
  const { header, rows } = log;
  const seconds = Math.max(1, log.endT);
  const step = stepFor(seconds, rows);
  const s: ReportSeries = {
    t: [], requests: [], answers: [], inputTokens: [], outputTokens: [], rpm: [], itpm: [], otpm: [], inFlight: [],
    rateLimited: [], retried: [], faults: [], p50: [], p90: [], usd: [], done: [], batchProcessing: [],
  };
  const totals = { requests: 0, answers: 0, errored: 0, rateLimited: 0, retried: 0, faults: 0, inputTokens: 0, outputTokens: 0, usd: null as number | null, done: 0 };
  const errorCounts = new Map<string, { retried: number; errored: number }>();
  let limits: EventRow['lim'] = {};
  let usd: number | null = null;
  let done = 0;
  let batchProcessing: number | null = null;
  const base = Math.floor(header.startedAt / 1000);
  let i = 0;
  // Every point from the start to the end, empty ones included (a 429 pause shows as a gap at zero).
  for (let at = 0; at < seconds; at += step) {
    const p = { req: 0, ok: 0, err: 0, rl: 0, retry: 0, fault: 0, in: 0, out: 0, fl: 0, w: 0, p50: 0, p90: 0 };
    for (; i < rows.length && rows[i]!.t < at + step; i++) {
      const r = rows[i]!;
      p.req += r.req; p.ok += r.ok; p.err += r.err; p.rl += r.rl; p.retry += r.retry; p.fault += r.fault;
      p.in += r.in; p.out += r.out; p.fl = Math.max(p.fl, r.fl);
      if (r.p50 !== undefined && r.ok > 0) {
        p.w += r.ok; p.p50 += r.p50 * r.ok; p.p90 += (r.p90 ?? r.p50) * r.ok;
      }
      if (r.lim) limits = r.lim;
      if (r.usd !== undefined) usd = r.usd;
      done = r.done;
      if (r.batch) batchProcessing = r.batch.processing;
      for (const [key, n] of Object.entries(r.errs ?? {})) {
        const type = key.endsWith('!') ? key.slice(0, -1) : key;
        const c = errorCounts.get(type) ?? { retried: 0, errored: 0 };
        if (key.endsWith('!')) c.errored += n;
        else c.retried += n;
        errorCounts.set(type, c);
      }
    }
    const perMinute = 60 / step;
    s.t.push(base + at);
    s.requests.push(round(p.req * perMinute));
    s.answers.push(round(p.ok * perMinute));
    s.inputTokens.push(round(p.in * perMinute));
    s.outputTokens.push(round(p.out * perMinute));
    s.rpm.push(limits.rpm ?? null);
    s.itpm.push(limits.itpm ?? null);
    s.otpm.push(limits.otpm ?? null);
    s.inFlight.push(p.fl);
    s.rateLimited.push(p.rl);
    s.retried.push(p.retry);
    s.faults.push(p.fault);
    s.p50.push(p.w > 0 ? Math.round(p.p50 / p.w) : null);
    s.p90.push(p.w > 0 ? Math.round(p.p90 / p.w) : null);
    s.usd.push(usd);
    s.done.push(done);
    s.batchProcessing.push(batchProcessing);
    totals.requests += p.req; totals.answers += p.ok; totals.errored += p.err; totals.rateLimited += p.rl;
    totals.retried += p.retry; totals.faults += p.fault; totals.inputTokens += p.in; totals.outputTokens += p.out;
  }
  totals.usd = usd;
  totals.done = done;
  const max = (xs: Array<number | null>) => xs.reduce<number>((m, x) => (x !== null && x > m ? x : m), 0);
  const p90s = s.p90.filter((x): x is number => x !== null);
  return {
    id: header.id,
    command: header.command,
    mode: header.mode,
    startedAt: header.startedAt,
    output: header.output,
    input: header.input,
    items: header.items,
    seconds,
    ended: log.summary !== undefined,
    stepSeconds: step,
    series: s,
    peaks: {
      requestsPerMinute: max(s.requests),
      inputTokensPerMinute: max(s.inputTokens),
      outputTokensPerMinute: max(s.outputTokens),
      inFlight: max(s.inFlight),
      p90: p90s.length > 0 ? Math.max(...p90s) : null,
    },
    totals,
    errors: errorRows(errorCounts, log),
    marks: log.marks,
    plan: header.plan,
    summary: log.summary,
  };
}

function errorRows(counts: Map<string, { retried: number; errored: number }>, log: EventLogContents): ErrorTypeRow[] {
  const out = new Map<string, ErrorTypeRow>();
  for (const [type, c] of counts) out.set(type, { type, ...c, examples: [] });
  for (const e of log.examples) {
    const row = out.get(e.type) ?? { type: e.type, retried: 0, errored: 0, examples: [] };
    row.examples.push({ custom_id: e.custom_id, message: e.message });
    out.set(e.type, row);
  }
  return [...out.values()].sort((a, b) => b.errored + b.retried - (a.errored + a.retried));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
