/**
 * Which addresses count as this machine only. On a loopback address the proxy may lend its own
 * key to clients that send none, and needs no token; on any other it requires `--token`.
 */
import { isIP } from 'node:net';

/** `127.0.0.1` (any 127.x.x.x), `::1`, `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Whether a request's `Host` header names this machine (host name, without its port). A browser
 * page that rebinds its own name to 127.0.0.1 still sends its own name here, so a loopback proxy
 * answers only requests addressed to a loopback name.
 */
export function hostHeaderIsLoopback(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  return isLoopback(host);
}

/** `http://host:port`, with an IPv6 address in brackets. */
export function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
