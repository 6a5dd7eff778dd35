/**
 * Passes an upstream answer's bytes to the client as they arrive: a streamed answer event by
 * event, never the whole of it held (the upstream is paused while the client is slow to read). A
 * copy of each chunk goes to a usage reader on the way. When the client goes away mid-answer the
 * upstream response is destroyed too, which closes its connection: the API stops producing (and
 * charging) the rest. When the upstream cuts off, or goes silent for `idleMs` mid-answer (a stalled
 * stream), the client's answer is cut off the same way, so it fails instead of hanging.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { endToEndHeaders } from './upstream.js';
import type { UsageReader } from './usage.js';

/** How an answer ended: whole, or cut off by whom. */
export type RelayEnd = 'whole' | 'client-gone' | 'upstream-cut' | 'stalled';

export interface RelayOptions {
  reader?: UsageReader;
  /** Longest silence from upstream mid-answer. Default: none. */
  idleMs?: number;
}

export function relay(upstream: IncomingMessage, res: ServerResponse, options: RelayOptions = {}): Promise<RelayEnd> {
  const { reader, idleMs } = options;
  res.writeHead(upstream.statusCode ?? 502, endToEndHeaders(upstream.headers));
  // A streaming client sees the status (and the limits) before the first event. (A plain answer's
  // head goes out with its first bytes, in one write.)
  if (String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
  return new Promise((resolve) => {
    let ended: RelayEnd | undefined;
    let timer: NodeJS.Timeout | undefined;
    const end = (how: RelayEnd) => {
      if (ended) return;
      ended = how;
      if (timer) clearTimeout(timer);
      if (how !== 'whole') {
        upstream.destroy();
        res.destroy();
      }
      resolve(how);
    };
    const watch = () => {
      if (idleMs === undefined) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => end('stalled'), idleMs);
    };
    watch();
    upstream.on('data', (chunk: Buffer) => {
      watch();
      reader?.push(chunk);
      if (!res.write(chunk)) upstream.pause();
    });
    res.on('drain', () => upstream.resume());
    upstream.once('end', () => res.end());
    res.once('finish', () => end('whole'));
    res.once('close', () => {
      if (!res.writableFinished) end('client-gone');
    });
    upstream.once('close', () => {
      if (!upstream.complete) end('upstream-cut');
    });
    upstream.on('error', () => undefined);
  });
}
