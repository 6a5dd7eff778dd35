/**
 * Requests that are not paced: every path other than `POST /v1/messages` (count_tokens, batches,
 * models, files …), forwarded unchanged and not charged to the Messages limits, their bodies
 * streamed both ways. Also what builds the headers every forwarded request carries: the client's
 * own (`anthropic-version`, `anthropic-beta`, `x-api-key` / `authorization` as they are), without
 * hop-by-hop headers and the proxy's own, and the proxy's key where it lends it.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CLIENT_HEADER } from './client-identity.js';
import type { ProxyContext, RequestIdentity } from './context.js';
import { TOKEN_HEADER } from './token.js';
import { relay } from './relay.js';
import type { ClientStats } from './stats.js';
import { sendApiError } from './http-io.js';
import { endToEndHeaders } from './upstream.js';

/** The largest upload any API endpoint takes (the Files API's 500 MB). Bodies are streamed, never held. */
export const MAX_FORWARD_BYTES = 512 * 1024 * 1024;

const PROXY_HEADERS = new Set([CLIENT_HEADER, TOKEN_HEADER]);

/** The client's headers for upstream; `bodyLength` set when the body was read whole. */
export function upstreamHeaders(req: IncomingMessage, who: RequestIdentity, bodyLength?: number): OutgoingHttpHeaders {
  const drop = new Set(PROXY_HEADERS);
  // A body read whole goes with its own length, at once (no 100-continue round trip upstream).
  if (bodyLength !== undefined) {
    drop.add('content-length');
    drop.add('expect');
  }
  const headers = endToEndHeaders(req.headers, drop);
  if (bodyLength !== undefined) headers['content-length'] = bodyLength;
  if (who.lentKey !== undefined) headers['x-api-key'] = who.lentKey;
  return headers;
}

/** Forwards a request whose body was already read (a Messages request that cannot be paced). */
export async function forwardBuffered(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  who: RequestIdentity,
  client: ClientStats,
): Promise<void> {
  await forward(ctx, req, res, who, client, body);
}

/** Forwards a request with its body streamed from the client as it arrives (bounded). */
export async function forwardStreamed(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, who: RequestIdentity, client: ClientStats) {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > MAX_FORWARD_BYTES) req.destroy(new Error('request body too large'));
  });
  await forward(ctx, req, res, who, client, req);
}

async function forward(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  who: RequestIdentity,
  client: ClientStats,
  body: Buffer | IncomingMessage,
): Promise<void> {
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.once('close', onClose);
  client.inFlight += 1;
  try {
    let upstream: IncomingMessage;
    try {
      upstream = await ctx.upstream.send({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: upstreamHeaders(req, who, Buffer.isBuffer(body) ? body.length : undefined),
        body,
        signal: gone.signal,
      });
    } catch (err) {
      if (gone.signal.aborted) ctx.stats.totals.clientGone += 1;
      else await unreachable(ctx, res, err);
      return;
    }
    const status = upstream.statusCode ?? 502;
    const end = await relay(upstream, res);
    if (end === 'client-gone') ctx.stats.totals.clientGone += 1;
    else if (end !== 'whole') ctx.stats.totals.upstreamCut += 1;
    else if (status < 400) {
      client.succeeded += 1;
      ctx.stats.totals.succeeded += 1;
    } else if (status === 429) {
      client.rateLimited += 1;
      ctx.stats.totals.clientRateLimited += 1;
    } else {
      client.errors += 1;
      ctx.stats.totals.errors += 1;
    }
  } finally {
    client.inFlight -= 1;
    res.off('close', onClose);
  }
}

/** The upstream could not be reached: a 502 in the API's shape (SDKs retry it), and one log line. */
export async function unreachable(ctx: ProxyContext, res: ServerResponse, err: unknown, refund?: () => Promise<void>): Promise<void> {
  const e = err as NodeJS.ErrnoException;
  const why = e?.code ?? e?.message ?? String(err);
  ctx.stats.totals.unreachable += 1;
  // Refused or unresolvable: it never reached the API, so nothing was counted.
  if (refund && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(e?.code ?? '')) await refund();
  ctx.log.notice(`unreachable:${why}`, `cannot reach the upstream ${ctx.upstream.base} (${why}); clients get a 502`);
  const headers: OutgoingHttpHeaders = { 'x-should-retry': 'true' };
  sendApiError(res, 502, 'api_error', `cannot reach the upstream ${ctx.upstream.base} (${why})`, headers);
}
