/**
 * `claw-batch simulate`: serves the local API stand-in until SIGINT/SIGTERM, so anyone can
 * rehearse a job offline by pointing ANTHROPIC_BASE_URL at it. Every option is documented in
 * src/simulator/options.ts and docs/simulator.md.
 */
import { readFileSync } from 'node:fs';
import { nextStopSignal } from '../stop-signal.js';
import type { CommandContext } from './context.js';
import { InvalidOptionError, UsageError } from '../errors.js';
import { startSimulator, type ClassLimitSet, type ReplyTokens, type SimulatorOptions } from '../simulator/index.js';
import { BATCH_QUEUE_LIMITS } from '../simulator/tiers.js';

/** The simulator's own options, as the flags give them. */
export interface SimulateOptions
  extends Pick<
    SimulatorOptions,
    | 'port' | 'host' | 'rpm' | 'itpm' | 'otpm' | 'classLimits' | 'tier' | 'otpmRule' | 'burstSeconds'
    | 'latencyMs' | 'jitterMs' | 'replyTokens' | 'outputTokensPerSecond' | 'cacheMinTokens' | 'cacheTtlScale'
    | 'rate500' | 'rate529' | 'dropRate' | 'hangRate' | 'stallRate' | 'invalidStructuredRate'
    | 'spendLimitAfter' | 'billingRefusalAfter' | 'billingRefusal' | 'batchMs' | 'batchQueueLimit' | 'organizations'
  > {
  /** `--unseen-rpm`: requests per minute another tool of the (default) organization sends. */
  unseenRpm?: number;
  /** Fraction of requests that fail with a fault, split evenly over 500, 529 and dropped connections. */
  faultRate?: number;
  /** An API key to reject with 401. */
  rejectKey?: string;
}

/** The port `simulate` listens on when --port is not given. */
export const DEFAULT_SIMULATOR_PORT = 4010;

const CLASS_LIMIT_FORM = 'MODEL-CLASS:rpm=N,itpm=N,otpm=N (any of the three, each a positive number), e.g. claude-haiku-4-5:rpm=1000,otpm=90000';
const LIMIT_KEYS = ['rpm', 'itpm', 'otpm'] as const;
const POSITIVE = /^[+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * `--class-limit` values (the flag repeats) -> `classLimits`. A class named twice takes the
 * later value of each limit.
 */
export function parseClassLimits(specs: readonly string[] | undefined): Record<string, ClassLimitSet> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, ClassLimitSet> = {};
  for (const spec of specs) {
    const bad = () => new InvalidOptionError('--class-limit', spec, CLASS_LIMIT_FORM);
    const match = /^([a-z0-9][a-z0-9.-]*):(.+)$/i.exec(spec.trim());
    if (!match) throw bad();
    const [, className, pairs] = match as unknown as [string, string, string];
    const limits: ClassLimitSet = { ...out[className] };
    for (const pair of pairs.split(',')) {
      const [key, value, extra] = pair.trim().split('=');
      if (!LIMIT_KEYS.includes(key as (typeof LIMIT_KEYS)[number]) || value === undefined || extra !== undefined) throw bad();
      const n = POSITIVE.test(value) ? Number(value) : Number.NaN;
      if (!Number.isFinite(n) || n <= 0) throw bad();
      limits[key as (typeof LIMIT_KEYS)[number]] = n;
    }
    out[className] = limits;
  }
  return out;
}

/** `--reply-tokens N` or `--reply-tokens MIN-MAX` -> `replyTokens`. */
export function parseReplyTokens(raw: string | undefined): ReplyTokens | undefined {
  if (raw === undefined) return undefined;
  const bad = () => new InvalidOptionError('--reply-tokens', raw, 'a whole number >= 1, or MIN-MAX such as 200-800');
  const match = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(raw);
  if (!match) throw bad();
  const min = Number(match[1]);
  const max = match[2] === undefined ? undefined : Number(match[2]);
  if (min < 1 || (max !== undefined && max < min)) throw bad();
  return max === undefined ? min : { min, max };
}

/**
 * `--organizations FILE`: a JSON array of `{ id, keys, rpm?, itpm?, otpm?, classLimits?, tier?,
 * workspaces? }` (the `organizations` option). The simulator checks the shape when it starts.
 */
export function readOrganizations(file: string | undefined): SimulatorOptions['organizations'] {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--organizations ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text) as SimulatorOptions['organizations'];
  } catch (err) {
    throw new UsageError(`--organizations ${file}: not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
}

/** Flags -> simulator options; a specific fault rate wins over its third of --fault-rate. */
export function simulatorOptionsFrom(o: SimulateOptions): SimulatorOptions {
  const share = o.faultRate !== undefined ? o.faultRate / 3 : undefined;
  const { faultRate: _faultRate, rejectKey, unseenRpm, ...rest } = o;
  return {
    ...rest,
    unseenTraffic: unseenRpm !== undefined ? { rpm: unseenRpm } : undefined,
    port: o.port ?? DEFAULT_SIMULATOR_PORT,
    rate500: o.rate500 ?? share,
    rate529: o.rate529 ?? share,
    dropRate: o.dropRate ?? share,
    rejectKeys: rejectKey !== undefined ? [rejectKey] : undefined,
  };
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

/** `, a processing queue of N requests`: the one set, else the tier's. */
function batchQueue(o: SimulatorOptions): string {
  const limit = o.batchQueueLimit ?? (o.tier ? BATCH_QUEUE_LIMITS[o.tier] : undefined);
  return limit === undefined ? '' : `; a processing queue of ${limit.toLocaleString('en-US')} requests`;
}

function limitsLine(l: ClassLimitSet): string[] {
  return [
    l.rpm !== undefined ? `${l.rpm} requests/min` : undefined,
    l.itpm !== undefined ? `${l.itpm} input tokens/min` : undefined,
    l.otpm !== undefined ? `${l.otpm} output tokens/min` : undefined,
  ].filter((s): s is string => s !== undefined);
}

function describe(o: SimulatorOptions): string[] {
  const own = limitsLine(o);
  const base = [o.tier ? `tier ${o.tier}` : undefined, own.length ? own.join(', ') : undefined].filter(Boolean).join('; ');
  const classes = Object.entries(o.classLimits ?? {}).map(([name, l]) => `    ${name}: ${limitsLine(l).join(', ')}`);
  const burst = o.burstSeconds ?? 1;
  const faults = [
    o.rate500 ? `500 ${pct(o.rate500)}` : undefined,
    o.rate529 ? `529 ${pct(o.rate529)}` : undefined,
    o.dropRate ? `dropped ${pct(o.dropRate)}` : undefined,
    o.hangRate ? `hung ${pct(o.hangRate)}` : undefined,
    o.stallRate ? `stalled streams ${pct(o.stallRate)}` : undefined,
  ].filter(Boolean);
  const latency = o.latencyMs ? `${o.latencyMs} ms${o.jitterMs ? ` +/- ${o.jitterMs} ms` : ''}` : 'none';
  const speed = o.outputTokensPerSecond ? ` to the first token, then ${o.outputTokensPerSecond} output tokens/s` : '';
  const reply = o.replyTokens === undefined ? 'short (about 20 tokens)' : typeof o.replyTokens === 'number' ? `${o.replyTokens} tokens` : `${o.replyTokens.min}-${o.replyTokens.max} tokens`;
  const billing = o.billingRefusalAfter !== undefined ? [`  billing: refused (${o.billingRefusal ?? 'credit-balance'}) after ${o.billingRefusalAfter} messages`] : [];
  return [
    `  limits:  ${base ? `${base} per model class (token buckets holding ${burst} s of each)` : 'none'}`,
    ...classes,
    `  output tokens counted ${o.otpmRule === 'reserve-max-tokens' ? 'by reserving max_tokens (the old rule)' : 'as produced'}`,
    `  latency: ${latency}${speed}; replies ${reply}`,
    `  prompt cache: prefixes of ${o.cacheMinTokens ?? 1024}+ tokens${o.cacheTtlScale && o.cacheTtlScale !== 1 ? `, TTLs x${o.cacheTtlScale}` : ''}`,
    `  faults:  ${faults.length ? faults.join(', ') : 'none'}`,
    `  batches: end ${o.batchMs ?? 2000} ms after create${batchQueue(o)}`,
    ...(o.rejectKeys?.length ? ['  one API key is answered 401'] : []),
    ...(o.organizations?.length
      ? [`  organizations: ${o.organizations.map((org) => `${org.id} (${org.keys.length} key${org.keys.length === 1 ? '' : 's'}${org.workspaces?.length ? `, ${org.workspaces.length} workspace${org.workspaces.length === 1 ? '' : 's'}` : ''})`).join(', ')}; any other key: the default organization`]
      : []),
    ...(o.unseenTraffic ? [`  another tool of the organization spends ${o.unseenTraffic.rpm} requests/min unseen`] : []),
    ...(o.spendLimitAfter !== undefined ? [`  spend limit: reached after ${o.spendLimitAfter} messages`] : []),
    ...billing,
  ];
}

export async function simulate(options: SimulateOptions, ctx: CommandContext): Promise<number> {
  const simOptions = simulatorOptionsFrom(options);
  let sim;
  try {
    sim = await startSimulator(simOptions);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${simOptions.port} is in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new UsageError(`cannot listen on --host ${simOptions.host}: no such local address`);
    }
    if (code === 'EACCES') throw new UsageError(`port ${simOptions.port} needs privileges; pick another with --port`);
    // The simulator checks its options (an --organizations file's shape among them) as it starts.
    if (err instanceof TypeError) throw new UsageError(options.organizations ? `--organizations: ${err.message}` : err.message);
    throw err;
  }
  ctx.stderr.write(
    [
      `claw-batch simulator listening on ${sim.url}`,
      ...describe(simOptions),
      'Point the CLI at it:',
      `  ANTHROPIC_BASE_URL=${sim.url} ANTHROPIC_API_KEY=sim claw-batch run items.jsonl`,
      `Counters: GET ${sim.url}/_sim/counters. Stop with Ctrl-C.`,
      '',
    ].join('\n'),
  );

  const signal = await nextStopSignal();
  const c = sim.counters();
  await sim.close();
  ctx.stderr.write(
    `claw-batch simulator stopped (${signal}): ${c.requests} messages requests, ${c.succeeded} succeeded, ${c.rateLimited} rate-limited, ${c.batchesCreated} batches\n`,
  );
  return 0;
}
