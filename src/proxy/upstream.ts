/**
 * The one API every request goes to (fixed at start, so the proxy is no open relay: a client names
 * a path, never a host). Requests reuse kept-alive connections; a request whose reused connection
 * turns out to have been closed by the other end before any answer is sent again once, as Node's
 * documentation recommends for keep-alive clients.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  method: string;
  /** Path and query as the client sent them, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: OutgoingHttpHeaders;
  /** A buffered body (may be sent twice), or a stream (sent once, as it arrives). */
  body?: Buffer | Readable;
  /** Aborts the request and its answer (the client went away). */
  signal: AbortSignal;
}

/** Headers that describe one connection, not the message: never passed on (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Headers to send on, without hop-by-hop ones, those the `Connection` header names, and `drop`. */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop: ReadonlySet<string> = new Set()): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export class Upstream {
  readonly url: URL;
  /** Origin and base path, without a trailing slash, e.g. `https://api.anthropic.com`. */
  readonly base: string;
  private readonly agent: http.Agent;
  private readonly basePath: string;

  constructor(address: string) {
    this.url = new URL(address);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new TypeError(`Expected an http:// or https:// upstream, got \`${address}\``);
    }
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.base = `${this.url.origin}${this.basePath}`;
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
  }

  /** Sends `request` and resolves with the answer's head (its body still to be read). */
  async send(request: UpstreamRequest): Promise<IncomingMessage> {
    try {
      return await this.once(request);
    } catch (err) {
      const resendable = request.body === undefined || Buffer.isBuffer(request.body);
      if (!resendable || !(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      return this.once(request);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private once(request: UpstreamRequest): Promise<IncomingMessage> {
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request({
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port || undefined,
        method: request.method,
        path: `${this.basePath}${request.path}`,
        headers: { ...request.headers, host: this.url.host },
        agent: this.agent,
        signal: request.signal,
      });
      req.once('response', resolve);
      req.once('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        // A kept-alive connection the server had closed: safe to send again, nothing was answered.
        if (req.reusedSocket && err.code === 'ECONNRESET') err.reusedSocket = true;
        reject(err);
      });
      const body = request.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }
}
