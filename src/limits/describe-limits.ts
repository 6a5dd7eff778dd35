/**
 * What `claw-batch limits` shows for one account: per model class the limits the API reported,
 * the bucket levels now, any 429 pause, and the processes drawing from it; as lines for a person
 * and as JSON. Only the account's fingerprint is ever shown, never the key.
 */
import { capacity } from './bucket-math.js';
import { HEARTBEAT_EVERY_MS, MISSED_HEARTBEATS } from './heartbeat.js';
import type { LimitStore, PeerSeen } from './limit-store.js';
import { DIMENSIONS, type Dimension, type RateLimits } from './types.js';

export interface LevelNow {
  /** Tokens (or requests) available now; negative: in debt. */
  level: number;
  /** Our bucket's size: what a burst may use at most. */
  capacity: number;
  /** The per-minute rate it refills at. */
  perMinute: number;
}

export interface LimitsRow {
  modelClass: string;
  /** The limits the API reported for this class (shared learned limits), over any given ones. */
  limits: RateLimits;
  /** The levels now, for the dimensions whose limit is known. */
  levels: Partial<Record<Dimension, LevelNow>>;
  /** ms left of a 429 pause; 0: none. */
  pausedForMs: number;
  /** The processes that said they draw from this class. */
  processes: PeerSeen[];
}

export interface LimitsReport {
  account: string;
  store: { kind: LimitStore['kind']; where: string };
  rows: LimitsRow[];
  /** Every process seen using the account's budgets. */
  processes: PeerSeen[];
}

/**
 * Reads one account's budgets from `store`. `known` adds limits known elsewhere (flags, config),
 * per model class, for classes the store has not seen; the store's learned limits win over them.
 */
export async function describeLimits(
  store: LimitStore,
  account: string,
  known: Record<string, RateLimits> = {},
  activeWithinMs = MISSED_HEARTBEATS * HEARTBEAT_EVERY_MS,
): Promise<LimitsReport> {
  const [snapshots, processes] = await Promise.all([store.snapshot(account), store.peers(account, activeWithinMs)]);
  const classes = new Set([...snapshots.map((s) => s.modelClass), ...Object.keys(known)]);
  const rows: LimitsRow[] = [...classes].sort().map((modelClass) => {
    const snap = snapshots.find((s) => s.modelClass === modelClass);
    const levels: LimitsRow['levels'] = {};
    for (const d of DIMENSIONS) {
      const spec = snap?.spec[d];
      const level = snap?.levels[d];
      if (spec && level !== undefined) levels[d] = { level, capacity: capacity(spec), perMinute: spec.perMinute };
    }
    return {
      modelClass,
      limits: { ...known[modelClass], ...snap?.learned },
      levels,
      pausedForMs: snap?.pausedForMs ?? 0,
      processes: processes.filter((p) => p.modelClasses.includes(modelClass)),
    };
  });
  return { account, store: { kind: store.kind, where: store.where }, rows, processes };
}

const LABEL: Record<Dimension, string> = { requests: 'requests', inputTokens: 'input tokens', outputTokens: 'output tokens' };

function n(x: number): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) < 100 ? 1 : 0 });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function processLine(p: PeerSeen): string {
  return `${p.command} PID ${p.pid} on ${p.host} (seen ${seconds(p.lastSeenMsAgo)} ago)`;
}

function limitsText(l: RateLimits): string {
  const parts = [l.rpm && `${n(l.rpm)} RPM`, l.itpm && `${n(l.itpm)} ITPM`, l.otpm && `${n(l.otpm)} OTPM`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'not known yet (learned from the API as responses arrive)';
}

/** The report as lines for a terminal. */
export function formatLimits(report: LimitsReport): string[] {
  const shared =
    report.store.kind === 'off'
      ? 'not shared (--shared-limits off): each process keeps its own budget, so there is nothing to show here'
      : `shared through ${report.store.kind === 'local' ? `this machine's ${report.store.where}` : report.store.where}`;
  const out = [`Account ${report.account}: ${shared}`];
  if (report.store.kind === 'off') return out;
  if (report.rows.length === 0) out.push('  no model class used yet');
  for (const row of report.rows) {
    out.push('', row.modelClass);
    out.push(`  limits     ${limitsText(row.limits)}`);
    const levels = DIMENSIONS.filter((d) => row.levels[d]).map((d) => {
      const l = row.levels[d]!;
      return `${LABEL[d]} ${n(l.level)} of ${n(l.capacity)}${l.level < 0 ? ' (in debt)' : ''}`;
    });
    out.push(`  now        ${levels.length ? levels.join(', ') : 'no levels yet'}`);
    out.push(`  pause      ${row.pausedForMs > 0 ? `${seconds(row.pausedForMs)} left (after a 429)` : 'none'}`);
    out.push(`  processes  ${row.processes.length ? `${row.processes.length}: ${row.processes.map(processLine).join('; ')}` : 'none now'}`);
  }
  out.push('', `Processes using this account: ${report.processes.length ? report.processes.length : 'none now'}`);
  for (const p of report.processes) out.push(`  ${processLine(p)}${p.modelClasses.length ? `: ${p.modelClasses.join(', ')}` : ''}`);
  return out;
}

/** The report as one JSON-ready object (numbers unrounded). */
export function limitsJson(report: LimitsReport): object {
  return {
    account: report.account,
    store: report.store,
    modelClasses: report.rows.map((r) => ({
      modelClass: r.modelClass,
      limits: r.limits,
      levels: r.levels,
      pausedForMs: r.pausedForMs,
      processes: r.processes,
    })),
    processes: report.processes,
  };
}
