/**
 * `claw-batch proxy`: serves the gateway until SIGINT/SIGTERM. The first signal stops accepting
 * and gives the requests in flight (and those held for their turn) the stop grace to finish; a
 * second exits at once. Exit 0 when everything accepted was answered, 3 when the grace ran out
 * and some requests were cut off.
 */
import { nextStopSignal } from '../stop-signal.js';
import type { CommandContext } from './context.js';
import { loadSettings } from '../config.js';
import { ExitCode, InvalidOptionError, UsageError } from '../errors.js';
import { stateDir } from '../state-dir.js';
import type { LimitStore } from '../limits/limit-store.js';
import { openLimitStore, sharedLimitsSource } from '../limits/open-store.js';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_PROXY_PORT, DEFAULT_UPSTREAM, isLoopback, REPORT_PATH, startProxy, STATUS_PATH, TOKEN_HEADER, type Proxy } from '../proxy/index.js';
import { EventLog, newRunId } from '../report/event-log.js';
import { redact, registerSecret } from '../secrets.js';
import { formatDuration, plural } from '../ui/format.js';

export interface ProxyCommandOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. Any other address requires `token`. */
  host?: string;
  /** Default: env `CLAW_BATCH_UPSTREAM`, else `https://api.anthropic.com`. */
  upstream?: string;
  /** Ceilings for every model class (the API's headers can only lower them). */
  rpm?: number;
  itpm?: number;
  otpm?: number;
  /** `local`, `off` or `redis://…`. Default: env `CLAW_BATCH_SHARED_LIMITS`, config `rate_limit.shared`, else `local`. */
  sharedLimits?: string;
  /** Seconds a request may be held before it goes upstream. Default 300. */
  maxWaitSeconds?: number;
  /** Default: env `CLAW_BATCH_PROXY_TOKEN`. */
  token?: string;
  config?: string;
}

/** `--upstream`, else `CLAW_BATCH_UPSTREAM`, else the API; an http(s) URL without credentials. */
function upstreamFrom(flag: string | undefined, env: NodeJS.ProcessEnv): URL {
  const fromEnv = env.CLAW_BATCH_UPSTREAM || undefined;
  const source = flag === undefined && fromEnv !== undefined ? 'CLAW_BATCH_UPSTREAM' : '--upstream';
  const value = flag ?? fromEnv ?? DEFAULT_UPSTREAM;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError(source, value, 'an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError(source, value, 'an http:// or https:// URL');
  if (url.username || url.password) throw new InvalidOptionError(source, '(a URL with credentials)', 'a URL without user:password');
  return url;
}

/** An upstream on this proxy's own address would send every request back to itself. */
function isItself(upstream: URL, host: string, port: number): boolean {
  const upstreamPort = Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80));
  return isLoopback(upstream.hostname) && isLoopback(host) && upstreamPort === port;
}

export async function proxy(options: ProxyCommandOptions, ctx: CommandContext): Promise<number> {
  const settings = await loadSettings(
    { rpm: options.rpm, itpm: options.itpm, otpm: options.otpm, sharedLimits: options.sharedLimits },
    { env: ctx.env, cwd: ctx.cwd, configPath: options.config },
  );
  const upstream = upstreamFrom(options.upstream, ctx.env);
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? (ctx.env.CLAW_BATCH_PROXY_TOKEN || undefined);
  if (token !== undefined && token.length < 8) throw new InvalidOptionError('--token', '(hidden)', 'at least 8 characters');
  if (!isLoopback(host) && token === undefined) {
    throw new UsageError(
      `--host ${host} is not a loopback address: anyone who can reach it could spend the account's limit, so it needs --token T (or CLAW_BATCH_PROXY_TOKEN), which every client then sends as ${TOKEN_HEADER}`,
    );
  }
  const port = options.port ?? DEFAULT_PROXY_PORT;
  if (isItself(upstream, host, port)) {
    throw new UsageError(`--upstream ${upstream.href} is this proxy's own address; point it at the API (or a simulator on another port)`);
  }
  registerSecret(token);
  const apiKey = ctx.env.ANTHROPIC_API_KEY || undefined;
  registerSecret(apiKey);
  const store = await openLimitStore({
    sharedLimits: settings.sharedLimits,
    source: sharedLimitsSource(settings),
    stateDir: stateDir(ctx.env),
    onNotice: (message) => ctx.stderr.write(`claw-batch proxy: ${redact(message)}\n`),
  });

  // The proxy's numbers every second, for its live report and `claw-batch report` afterwards.
  const events = new EventLog(
    ctx.env,
    { id: newRunId(), command: 'proxy', mode: 'proxy', output: null },
    { onBroken: (m) => ctx.stderr.write(`claw-batch proxy: warning: ${m}\n`) },
  );
  let server: Proxy;
  try {
    server = await startProxy({
      port,
      host,
      upstream: upstream.href,
      given: { all: { rpm: settings.rpm, itpm: settings.itpm, otpm: settings.otpm }, byClass: settings.classLimits },
      store,
      maxWaitMs: options.maxWaitSeconds !== undefined ? options.maxWaitSeconds * 1000 : DEFAULT_MAX_WAIT_MS,
      token,
      apiKey,
      firstByteTimeoutMs: settings.firstByteTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      log: (line) => ctx.stderr.write(`${line}\n`),
      events,
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use (another proxy?); pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on --host ${host}: no such local address`);
    if (code === 'EACCES') throw new UsageError(`port ${port} needs privileges; pick another with --port`);
    throw err;
  }

  ctx.stderr.write(`${redact(startBanner(server, server.upstream, store, settings, options, token !== undefined, events.id))}\n`);
  const signal = await nextStopSignal();
  const again = () => {
    ctx.stderr.write(`claw-batch proxy: ${signal} again: exiting now\n`);
    process.exit(ExitCode.stopped);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  try {
    const before = await server.status();
    const open = before.queued + before.inFlight;
    ctx.stderr.write(
      `claw-batch proxy: ${signal}: no new requests${open ? `; ${open} in flight or held get ${formatDuration(settings.stopGraceMs)} to finish (Ctrl-C again to exit at once)` : ''}\n`,
    );
    const { cutOff } = await server.close(settings.stopGraceMs);
    const t = (await server.status()).totals;
    ctx.stderr.write(
      `claw-batch proxy stopped: ${plural(t.requests, 'request')} (${t.messages} to /v1/messages), ${t.succeeded} succeeded, ${plural(t.errors, 'error')} passed back; 429s: ${t.upstreamRateLimited} upstream, ${t.clientRateLimited} to clients${cutOff ? `; ${cutOff} cut off when the grace ran out` : ''}\n`,
    );
    return cutOff > 0 ? ExitCode.stopped : ExitCode.ok;
  } finally {
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
    await store.close().catch(() => undefined);
  }
}

function startBanner(
  server: Proxy,
  upstream: string,
  store: LimitStore,
  settings: { rpm?: number; itpm?: number; otpm?: number },
  options: ProxyCommandOptions,
  tokened: boolean,
  eventsId: string,
): string {
  const given = [
    settings.rpm ? `${settings.rpm} rpm` : undefined,
    settings.itpm ? `${settings.itpm} itpm` : undefined,
    settings.otpm ? `${settings.otpm} otpm` : undefined,
  ].filter(Boolean);
  const wildcard = server.host === '0.0.0.0' || server.host === '::';
  const local = wildcard ? server.url.replace(/\/\/[^/]+:/, '//127.0.0.1:') : server.url;
  const maxWait = options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_MS / 1000;
  return [
    `claw-batch proxy listening on ${server.url} -> ${upstream}`,
    `  limits:   ${given.length ? `at most ${given.join(', ')} per model class, lower if the API says so` : "learned per model class from the API's headers"}`,
    `  shared:   ${store.kind === 'off' ? 'by this process alone (--shared-limits off)' : `with every claw-batch using ${store.where} and the same key`}`,
    `  holding:  each request up to ${maxWait}s for its turn (--max-wait); clients are served in turn`,
    `  keys:     ${server.lendsKey ? "clients that send no key of their own use this process's ANTHROPIC_API_KEY" : 'each client sends its own key'}`,
    ...(tokened ? [`  token:    every client must send ${TOKEN_HEADER}: <the token> (or Proxy-Authorization: Bearer <the token>)`] : []),
    'Point any Anthropic client at it:',
    `  export ANTHROPIC_BASE_URL=${local}`,
    ...(tokened ? [`  export ANTHROPIC_CUSTOM_HEADERS='${TOKEN_HEADER}: <the token>'   # Claude Code; SDKs: default headers`] : []),
    `Status: curl ${tokened ? `-H '${TOKEN_HEADER}: <the token>' ` : ''}${local}${STATUS_PATH}. Stop with Ctrl-C.`,
    tokened ? `Report: claw-batch report ${eventsId}` : `Report: ${local}${REPORT_PATH} in a browser, live (afterwards: claw-batch report ${eventsId})`,
  ].join('\n');
}
