/**
 * What the proxy is doing: `GET /_claw/status` as JSON (limits and levels per model class, queued,
 * in flight, 429s upstream and to clients, per-client counts), and the plain stderr line it prints
 * about every 10 s while anything happens. Accounts appear by fingerprint, never by key.
 */
import type { BudgetSnapshot } from '../limits/limit-store.js';
import type { Dimension, RateLimits } from '../limits/types.js';
import { formatCompact, formatCount, formatDuration } from '../ui/format.js';
import type { Accounts } from './accounts.js';
import type { ClientStats, ProxyStats, ProxyTotals } from './stats.js';

export interface ClassStatus {
  /**
   * Whose budget: the organization's account (`org-` and 16 hex digits) once an answer named it,
   * else the key's fingerprint (16 hex digits of SHA-256 over the upstream and the key).
   */
  account: string;
  /** The organization (and workspace) the API named, when known. */
  organization: string | null;
  workspace: string | null;
  /** Fingerprints of the keys this proxy has seen drawing from the account. */
  keys: string[];
  modelClass: string;
  /** The limits in force: given ceilings capped by what the API reported. */
  limits: RateLimits;
  /** Bucket levels now, per dimension with a known limit (from the limit store). */
  levels: Partial<Record<Dimension, number>>;
  /** ms left of a 429 pause; 0 when none. */
  pausedForMs: number;
  /** Fraction of the limits the pace is at (below 1 for a while after a 429). */
  pace: number;
  /** What the next request waits for, when it has waited more than a second. */
  waitingFor: Dimension | 'pause' | null;
  queued: number;
  inFlight: number;
}

export interface ProxyStatus {
  upstream: string;
  uptimeSeconds: number;
  /** Where the budgets live: `this process`, a SQLite file, a Redis URL (password masked). */
  sharedLimits: string;
  queued: number;
  inFlight: number;
  totals: ProxyTotals;
  classes: ClassStatus[];
  clients: Array<ClientStats & { id: string }>;
  /** The live report page's path (`/_claw/report`), when the proxy keeps an event log. */
  report?: string;
}

export async function proxyStatus(accounts: Accounts, stats: ProxyStats, upstream: string, sharedLimits: string): Promise<ProxyStatus> {
  const classes: ClassStatus[] = [];
  const snapshots = new Map<string, BudgetSnapshot[]>();
  const keys = accounts.all();
  for (const { account, lane } of accounts.lanes()) {
    let snaps = snapshots.get(account);
    if (!snaps) {
      snaps = await accounts.store.snapshot(account).catch(() => []);
      // A store that cannot answer now: the status shows limits without levels.
      snapshots.set(account, snaps);
    }
    const snap = snaps.find((s) => s.modelClass === lane.modelClass);
    const users = keys.filter((k) => k.budget.account === account);
    const link = users[0]?.budget.link;
    classes.push({
      account,
      organization: link?.organization ?? null,
      workspace: link?.workspace ?? null,
      keys: users.map((k) => k.id),
      modelClass: lane.modelClass,
      limits: lane.budget.limits(),
      levels: roundLevels(snap?.levels ?? {}),
      pausedForMs: Math.round(snap?.pausedForMs ?? 0),
      pace: Math.round(lane.budget.paceFactor * 100) / 100,
      waitingFor: lane.budget.hold()?.heldBy ?? null,
      queued: lane.queued,
      inFlight: lane.inFlight,
    });
  }
  return {
    upstream,
    uptimeSeconds: Math.round((Date.now() - stats.startedAt) / 1000),
    sharedLimits,
    // Every request held for its turn, counted as each client's are (a class's `queued` leaves out
    // the one whose turn has come and that waits for the budget).
    queued: stats.clientList().reduce((n, c) => n + c.queued, 0),
    inFlight: stats.clientList().reduce((n, c) => n + c.inFlight, 0),
    totals: { ...stats.totals },
    classes,
    clients: stats.clientList(),
  };
}

function roundLevels(levels: Partial<Record<Dimension, number>>): Partial<Record<Dimension, number>> {
  return Object.fromEntries(Object.entries(levels).map(([d, v]) => [d, Math.floor(v ?? 0)]));
}

const DIMENSION_WORDS: Record<Dimension | 'pause', string> = {
  requests: 'requests',
  inputTokens: 'input tokens',
  outputTokens: 'output tokens',
  pause: 'a 429 pause',
};

/** Answers the clients received: successes, errors, and 429s. */
const answered = (t: ProxyTotals) => t.succeeded + t.errors + t.clientRateLimited;

/**
 * One plain line, e.g. `last 10s: 42 received, 40 answered; now 8 held, 12 in flight; 429s so far:
 * 0 upstream, 0 to clients; claude-haiku-4-5 at 1k rpm/2M itpm/400k otpm, waiting for output tokens`.
 */
export function statusLine(status: ProxyStatus, since: ProxyTotals | undefined, windowMs: number): string {
  const t = status.totals;
  const received = t.requests - (since?.requests ?? 0);
  const done = answered(t) - (since ? answered(since) : 0);
  const parts = [
    `last ${formatDuration(windowMs)}: ${formatCount(received)} received, ${formatCount(done)} answered`,
    `now ${formatCount(status.queued)} held, ${formatCount(status.inFlight)} in flight`,
    `429s so far: ${formatCount(t.upstreamRateLimited)} upstream, ${formatCount(t.clientRateLimited)} to clients`,
  ];
  for (const c of status.classes) {
    const limits = [
      c.limits.rpm ? `${formatCompact(c.limits.rpm)} rpm` : undefined,
      c.limits.itpm ? `${formatCompact(c.limits.itpm)} itpm` : undefined,
      c.limits.otpm ? `${formatCompact(c.limits.otpm)} otpm` : undefined,
    ].filter(Boolean);
    const held = c.waitingFor ? `, waiting for ${DIMENSION_WORDS[c.waitingFor]}` : '';
    parts.push(`${c.modelClass} ${limits.length ? `at ${limits.join('/')}` : '(limits not known yet)'}${held}`);
  }
  return parts.join('; ');
}

/** Whether anything happened since the last line (new requests, or requests still held or in flight). */
export function somethingHappened(status: ProxyStatus, since: ProxyTotals | undefined): boolean {
  const t = status.totals;
  return t.requests !== (since?.requests ?? 0) || answered(t) !== (since ? answered(since) : 0) || status.queued > 0 || status.inFlight > 0;
}
