/** The plan as lines for stderr and as the object `--dry-run --json` prints. */
import type { Plan } from './index.js';

/** The plan as lines for stderr: the choice, the reasons, the time and the cost each way. */
export function formatPlan(plan: Plan): string[] {
  const lines = [`plan: ${plan.mode === 'batch' ? 'Message Batches API' : 'real-time requests'}`];
  for (const r of plan.reasons) lines.push(`  why: ${r}`);
  lines.push(
    `  time: real-time ≈ ${formatDuration(plan.realtimeSeconds)}; Batches API typically ≤ ${formatDuration(plan.batchSeconds.typical)}, at most ${formatDuration(plan.batchSeconds.max)}`,
  );
  const tokens = `input ≈ ${fmtTokens(plan.tokens.input)}, output ≈ ${fmtTokens(plan.tokens.outputExpected)} (≤ ${fmtTokens(plan.tokens.outputMax)} at max_tokens)`;
  if (plan.cost) {
    const c = plan.cost;
    lines.push(`  cost: real-time ${estimate(c.realtime, c.realtimeMax)}, Batches API ${estimate(c.batch, c.batchMax)} (50% off) — ${tokens}`);
  } else {
    const which = plan.unpricedModels.length > 0 ? plan.unpricedModels.join(', ') : 'the model (none is named)';
    lines.push(`  cost: no price known for ${which}; ${tokens} (the Batches API charges half)`);
  }
  return lines;
}

/** Plan-sized durations: `45 s`, `12 min`, `1 h 30 min` (the ui's formats are for live progress). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function fmtNum(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtTokens(n: number): string {
  return `${fmtNum(n)} ${Math.round(n) === 1 ? 'token' : 'tokens'}`;
}

/** `≈ $0.39 (at most $1.54)`; `under $0.01` when even the most it could cost is less than a cent. */
function estimate(expected: number, max: number): string {
  if (max < 0.01) return 'under $0.01';
  const about = expected > 0 && expected < 0.01 ? 'under $0.01' : `≈ $${expected.toFixed(2)}`;
  return `${about} (at most $${max.toFixed(2)})`;
}

/** The plan for `--dry-run --json`, snake_case like the summary. */
export function planObject(plan: Plan): Record<string, unknown> {
  return {
    mode: plan.mode,
    reasons: plan.reasons,
    realtime_seconds: Math.round(plan.realtimeSeconds),
    batch_seconds: plan.batchSeconds,
    classes: plan.paces.map((p) => ({
      model_class: p.modelClass,
      requests_per_minute: Math.round(p.requestsPerMinute * 10) / 10,
      binding: p.binding,
      seconds: Math.round(p.seconds),
    })),
    tokens: { input: plan.tokens.input, output_expected: plan.tokens.outputExpected, output_max: plan.tokens.outputMax },
    cost: plan.cost
      ? {
          realtime: plan.cost.realtime,
          batch: plan.cost.batch,
          realtime_max: plan.cost.realtimeMax,
          batch_max: plan.cost.batchMax,
          currency: plan.cost.currency,
        }
      : null,
  };
}
