/**
 * `claw-batch simulate`: serves the local API stand-in until SIGINT/SIGTERM, so anyone can
 * rehearse a job offline by pointing ANTHROPIC_BASE_URL at it.
 */
import type { CommandContext } from './context.js';
import { UsageError } from '../errors.js';
import { startSimulator, type SimulatorOptions } from '../simulator/index.js';

/** The simulator's own options (documented in src/simulator/options.ts), as the flags give them. */
export interface SimulateOptions
  extends Pick<
    SimulatorOptions,
    | 'port' | 'host' | 'rpm' | 'itpm' | 'otpm' | 'burstSeconds' | 'latencyMs' | 'jitterMs'
    | 'rate500' | 'rate529' | 'dropRate' | 'spendLimitAfter' | 'batchMs'
  > {
  /** Fraction of requests that fail with a fault, split evenly over 500, 529 and dropped connections. */
  faultRate?: number;
  /** An API key to reject with 401. */
  rejectKey?: string;
}

/** The port `simulate` listens on when --port is not given. */
export const DEFAULT_SIMULATOR_PORT = 4010;

/** Flags -> simulator options; a specific fault rate wins over its third of --fault-rate. */
export function simulatorOptionsFrom(o: SimulateOptions): SimulatorOptions {
  const share = o.faultRate !== undefined ? o.faultRate / 3 : undefined;
  return {
    port: o.port ?? DEFAULT_SIMULATOR_PORT,
    host: o.host,
    rpm: o.rpm,
    itpm: o.itpm,
    otpm: o.otpm,
    burstSeconds: o.burstSeconds,
    latencyMs: o.latencyMs,
    jitterMs: o.jitterMs,
    rate500: o.rate500 ?? share,
    rate529: o.rate529 ?? share,
    dropRate: o.dropRate ?? share,
    rejectKeys: o.rejectKey !== undefined ? [o.rejectKey] : undefined,
    batchMs: o.batchMs,
    spendLimitAfter: o.spendLimitAfter,
  };
}

function describe(o: SimulatorOptions): string[] {
  const limits = [
    o.rpm !== undefined ? `${o.rpm} requests/min` : undefined,
    o.itpm !== undefined ? `${o.itpm} input tokens/min` : undefined,
    o.otpm !== undefined ? `${o.otpm} output tokens/min` : undefined,
  ].filter(Boolean);
  const burst = o.burstSeconds ?? 1;
  const faults = [
    o.rate500 ? `500 ${pct(o.rate500)}` : undefined,
    o.rate529 ? `529 ${pct(o.rate529)}` : undefined,
    o.dropRate ? `dropped ${pct(o.dropRate)}` : undefined,
  ].filter(Boolean);
  const latency = o.latencyMs ? `${o.latencyMs} ms${o.jitterMs ? ` +/- ${o.jitterMs} ms` : ''}` : 'none';
  return [
    `  limits:  ${limits.length ? `${limits.join(', ')} (token buckets holding ${burst} s of each)` : 'none'}`,
    `  latency: ${latency}`,
    `  faults:  ${faults.length ? faults.join(', ') : 'none'}`,
    `  batches: end ${o.batchMs ?? 2000} ms after create`,
    ...(o.rejectKeys?.length ? ['  one API key is answered 401'] : []),
    ...(o.spendLimitAfter !== undefined ? [`  spend limit: reached after ${o.spendLimitAfter} messages`] : []),
  ];
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

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

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(s);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const c = sim.counters();
  await sim.close();
  ctx.stderr.write(
    `claw-batch simulator stopped (${signal}): ${c.requests} messages requests, ${c.succeeded} succeeded, ${c.rateLimited} rate-limited, ${c.batchesCreated} batches\n`,
  );
  return 0;
}
