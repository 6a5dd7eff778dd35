/**
 * Traffic the client never sees: another tool of the same organization spending its limits (a
 * colleague's script, an agent on another key). The simulator itself takes requests from the
 * organization's buckets at `rpm`, evenly, each with `inputTokens` of input and `outputTokens` of
 * output produced over `outputMs`; a request the buckets refuse is that tool's 429, counted apart.
 * A client learns about this traffic only from what the rate-limit headers say remains, and from
 * its own 429s, as with the real API.
 */
import { admitAll } from './class-budget.js';
import { modelClass } from './model-classes.js';
import { budgetsOf } from './organizations.js';
import type { SimulatorState } from './state.js';

export interface UnseenTraffic {
  /** Requests per minute the other tool sends. */
  rpm: number;
  /** Its model (sets the model class it spends). Default `claude-haiku-4-5`. */
  model?: string;
  /** The organization it belongs to. Default: the default organization. */
  organization?: string;
  /** Input tokens each request counts against ITPM. Default 200. */
  inputTokens?: number;
  /** Output tokens of each answer. Default 100. */
  outputTokens?: number;
  /** How long each answer's output takes to produce, in ms. Default 1000. */
  outputMs?: number;
}

const TICK_MS = 50;

/** Starts the traffic; the returned function stops it. */
export function startUnseenTraffic(state: SimulatorState, spec: UnseenTraffic): () => void {
  let owed = 0;
  const className = modelClass(spec.model ?? 'claude-haiku-4-5');
  const inputTokens = spec.inputTokens ?? 200;
  const outputTokens = spec.outputTokens ?? 100;
  const outputMs = spec.outputMs ?? 1000;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    owed += ((now - last) * spec.rpm) / 60_000;
    last = now;
    const tenancy = state.organizations.organization(spec.organization);
    for (; owed >= 1; owed -= 1) {
      const budgets = budgetsOf(tenancy, className, now);
      const admission = admitAll(budgets, { inputTokens, maxTokens: outputTokens }, now);
      if (!admission.ok) {
        state.counters.unseen.refused++;
        continue;
      }
      for (const b of budgets) b.chargeOutput(outputTokens, outputTokens, now, now + outputMs, now).finish(now + outputMs);
      state.counters.unseen.sent++;
      state.counters.unseen.outputTokens += outputTokens;
    }
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
