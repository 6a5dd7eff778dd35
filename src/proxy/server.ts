/**
 * The proxy's HTTP server: who may ask (loopback names only, or the token; never a browser page),
 * routing (`POST /v1/messages` paced, other `/v1/` paths forwarded, `GET /_claw/status`, and the
 * live report `GET /_claw/report`), bounded
 * request bodies and timeouts for slow senders, the periodic status line, and a close that stops
 * accepting and lets what is in flight finish within a grace period.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '../limits/memory-store.js';
import { Accounts } from './accounts.js';
import { hostHeaderIsLoopback, isLoopback, urlFor } from './address.js';
import { clientIdOf, credentialOf } from './client-identity.js';
import type { ProxyContext, RequestIdentity } from './context.js';
import { forwardStreamed } from './forward.js';
import { BodyTooLargeError, ClientGoneError, MAX_MESSAGE_BYTES, readBody, sendApiError, sendJson } from './http-io.js';
import { proxyRunStats, REPORT_PATH, sendLiveReport } from './live-report.js';
import { ProxyLog } from './log.js';
import { DEFAULTS, DEFAULT_PROXY_PORT, type ProxyOptions } from './options.js';
import { handleMessage } from './paced-message.js';
import { ProxyStats, type ProxyTotals } from './stats.js';
import { proxyStatus, somethingHappened, statusLine, type ProxyStatus } from './status.js';
import { hasToken, TOKEN_HEADER } from './token.js';
import { Upstream } from './upstream.js';

export interface Proxy {
  /** e.g. `http://127.0.0.1:8787`: what clients set ANTHROPIC_BASE_URL to. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The upstream's base URL, without a trailing slash. */
  readonly upstream: string;
  /** Whether clients with no key of their own are lent the proxy's (a key was given, and the address is loopback). */
  readonly lendsKey: boolean;
  status(): Promise<ProxyStatus>;
  /**
   * Stops accepting, lets requests in flight (and those held for their turn) finish for up to
   * `graceMs`, then cuts off the rest. Resolves with how many were cut off.
   */
  close(graceMs?: number): Promise<{ cutOff: number }>;
}

export const STATUS_PATH = '/_claw/status';

export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const host = options.host ?? DEFAULTS.host;
  const loopback = isLoopback(host);
  if (!loopback && !options.token) {
    throw new TypeError(`Expected a \`token\` for the non-loopback address \`${host}\``);
  }
  const upstream = new Upstream(options.upstream);
  const ownStore = options.store === undefined;
  const store = options.store ?? new MemoryStore();
  const accounts = new Accounts({ store, upstream: upstream.base, given: options.given ?? { all: {} } });
  const stats = new ProxyStats();
  const log = new ProxyLog(options.log ?? (() => {}));
  const shutdown = new AbortController();
  // Every request waiting for its turn listens (Node warns on its stderr past 10 otherwise).
  setMaxListeners(0, shutdown.signal);
  const ctx: ProxyContext = {
    shutdown: shutdown.signal,
    upstream,
    accounts,
    stats,
    log,
    maxWaitMs: options.maxWaitMs ?? DEFAULTS.maxWaitMs,
    timeouts: {
      firstByteMs: options.firstByteTimeoutMs ?? DEFAULTS.firstByteTimeoutMs,
      idleMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    },
  };
  const lentKey = loopback ? options.apiKey : undefined;
  const events = options.events;
  const status = async () => {
    const s = await proxyStatus(accounts, stats, upstream.base, store.where);
    return events ? { ...s, report: REPORT_PATH } : s;
  };

  const active = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Only the path and query count: an absolute-form target (`POST http://elsewhere/…`) names no host here.
    const target = new URL(req.url ?? '/', 'http://proxy.invalid');
    req.url = `${target.pathname}${target.search}`;
    const path = target.pathname.length > 1 ? target.pathname.replace(/\/+$/, '') : target.pathname;

    if (closing) {
      res.setHeader('connection', 'close');
      return sendApiError(res, 503, 'overloaded_error', 'shutting down; send this request again once a proxy is listening');
    }
    if (loopback && !hostHeaderIsLoopback(req.headers.host)) {
      return sendApiError(res, 403, 'permission_error', 'this proxy answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1])');
    }
    if (req.headers.origin !== undefined) {
      // Browsers send Origin with every cross-site request (SDKs and curl do not): a web page must
      // not spend this machine's rate limit, or its lent key.
      return sendApiError(res, 403, 'permission_error', 'requests from web pages are refused');
    }
    if (!hasToken(req.headers, options.token)) {
      return sendApiError(res, 401, 'authentication_error', `missing or wrong ${TOKEN_HEADER} header (this proxy was started with --token)`);
    }
    if (path === STATUS_PATH && (req.method === 'GET' || req.method === 'HEAD')) return sendJson(res, 200, await status());
    if (path === REPORT_PATH && events && (req.method === 'GET' || req.method === 'HEAD')) {
      // The numbers up to this moment, not up to the last second's sample.
      events.sample(proxyRunStats(await status(), stats.startedAt));
      return sendLiveReport(res, events);
    }

    const credential = credentialOf(req.headers);
    const lent = credential === undefined ? lentKey : undefined;
    const who: RequestIdentity = { client: clientIdOf(req.headers, credential), credential: credential ?? lent, lentKey: lent };
    const client = stats.client(who.client);
    client.requests += 1;
    stats.totals.requests += 1;

    if (path === '/v1/messages' && req.method === 'POST') {
      stats.totals.messages += 1;
      const body = await readBody(req, MAX_MESSAGE_BYTES);
      return handleMessage(ctx, req, res, body, who, client);
    }
    if (path.startsWith('/v1/')) {
      stats.totals.forwarded += 1;
      return forwardStreamed(ctx, req, res, who, client);
    }
    return sendApiError(res, 404, 'not_found_error', `${req.method} ${path}: not an API path (the proxy forwards /v1/…; its own status is at ${STATUS_PATH})`);
  };

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
      // How often the two timeouts above are checked (Node's default is every 30 s).
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      active.add(res);
      res.once('close', () => {
        active.delete(res);
        if (active.size === 0) drained?.();
      });
      handle(req, res).catch((err: unknown) => {
        if (err instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return sendApiError(res, 413, 'request_too_large', err.message);
        }
        if (err instanceof ClientGoneError) return res.destroy();
        log.notice('internal', `internal error: ${(err as Error)?.message ?? err}`);
        sendApiError(res, 500, 'api_error', 'internal error in the proxy');
      });
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PROXY_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const everyMs = options.statusEveryMs ?? DEFAULTS.statusEveryMs;
  let since: ProxyTotals | undefined;
  const ticker = setInterval(() => {
    void status().then((s) => {
      if (somethingHappened(s, since)) log.line(statusLine(s, since, everyMs));
      since = s.totals;
    });
  }, everyMs);
  ticker.unref();
  // The event log takes the numbers every second (the report's rows are per second).
  const sampler = events && setInterval(() => void status().then((s) => events.sample(proxyRunStats(s, stats.startedAt))), 1000);
  sampler?.unref();

  return {
    url: urlFor(host, port),
    host,
    port,
    upstream: upstream.base,
    lendsKey: lentKey !== undefined,
    status,
    async close(graceMs = 10_000) {
      closing = true;
      clearInterval(ticker);
      if (sampler) clearInterval(sampler);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      // Requests still held were never sent: they get a 503 saying so (and to send them again),
      // rather than a connection cut without an answer.
      shutdown.abort();
      await new Promise((resolve) => setImmediate(resolve));
      const cutOff = active.size;
      server.closeAllConnections();
      await stopped;
      if (events) {
        const s = await status();
        events.close(proxyRunStats(s, stats.startedAt), { mode: 'proxy', totals: s.totals });
      }
      await accounts.close();
      upstream.close();
      if (ownStore) await store.close();
      return { cutOff };
    },
  };
}
