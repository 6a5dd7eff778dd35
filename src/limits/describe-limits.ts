/**
 * What `claw-batch limits` shows for one account: whose it is (the organization the API named, and
 * the keys seen drawing from it), per model class the limits the API reported, the bucket levels
 * now, any 429 pause, and the processes drawing from it with the key each uses; as lines for a
 * person and as JSON. Only fingerprints of keys are ever shown, never a key.
 */
import { capacity } from './bucket-math.js';
import { HEARTBEAT_EVERY_MS, MISSED_HEARTBEATS } from './heartbeat.js';
import type { KeyLink, LimitStore, LinkedKey, PeerSeen } from './limit-store.js';
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
  /** The organization (and workspace) the account is, once an answer has named it. */
  link?: KeyLink;
  /** The key asked about (its fingerprint). */
  keyId?: string;
  /** The keys seen drawing from the account (the asked one included once linked). */
  keys: LinkedKey[];
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
  whose: { link?: KeyLink; keyId?: string } = {},
): Promise<LimitsReport> {
  const [snapshots, processes, keys] = await Promise.all([store.snapshot(account), store.peers(account, activeWithinMs), store.keysOf(account)]);
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
  return { account, link: whose.link, keyId: whose.keyId, keys, store: { kind: store.kind, where: store.where }, rows, processes };
}

const LABEL: Record<Dimension, string> = { requests: 'requests', inputTokens: 'input tokens', outputTokens: 'output tokens' };

function n(x: number): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) < 100 ? 1 : 0 });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function keyName(keyId: string | undefined, report: LimitsReport): string {
  return keyId === undefined ? 'a key' : `key ${keyId}${keyId === report.keyId ? ' (this key)' : ''}`;
}

function processLine(p: PeerSeen, report: LimitsReport): string {
  const key = p.keyId ? ` with ${keyName(p.keyId, report)}` : '';
  return `${p.command} PID ${p.pid} on ${p.host}${key} (seen ${seconds(p.lastSeenMsAgo)} ago)`;
}

/** Whose budgets these are, for the report's first line. */
function whose(report: LimitsReport): string {
  const link = report.link;
  if (!link) return `Account ${report.account} (this key's own until an answer names its organization)`;
  const ws = link.workspace ? `, workspace ${link.workspace} (limits of its own; its requests count against the organization's too)` : '';
  return `Organization ${link.organization}${ws}, account ${report.account}`;
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
  const out = [`${whose(report)}: ${shared}`];
  if (report.store.kind === 'off') return out;
  if (report.link) {
    const keys = report.keys.map((k) => `${k.keyId}${k.keyId === report.keyId ? ' (this key)' : ''}${k.account !== report.account ? ` (workspace ${k.workspace ?? '?'})` : ''}`);
    out.push(`  keys seen  ${keys.length ? `${keys.length}: ${keys.join(', ')}` : 'none recorded yet'}`);
  }
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
    out.push(`  processes  ${row.processes.length ? `${row.processes.length}: ${row.processes.map((p) => processLine(p, report)).join('; ')}` : 'none now'}`);
  }
  out.push('', `Processes using this account: ${report.processes.length ? report.processes.length : 'none now'}`);
  for (const p of report.processes) out.push(`  ${processLine(p, report)}${p.modelClasses.length ? `: ${p.modelClasses.join(', ')}` : ''}`);
  return out;
}

/** The report as one JSON-ready object (numbers unrounded). */
export function limitsJson(report: LimitsReport): object {
  return {
    account: report.account,
    organization: report.link?.organization ?? null,
    workspace: report.link?.workspace ?? null,
    parentAccount: report.link?.parent ?? null,
    key: report.keyId ?? null,
    keys: report.keys.map((k) => ({ key: k.keyId, account: k.account, workspace: k.workspace ?? null })),
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
