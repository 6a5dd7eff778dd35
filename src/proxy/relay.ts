/**
 * Passes an upstream answer's bytes to the client as they arrive: a streamed answer event by
 * event, never the whole of it held (the upstream is paused while the client is slow to read). A
 * copy of each chunk goes to a usage reader on the way. When the client goes away mid-answer the
 * upstream response is destroyed too, which closes its connection: the API stops producing (and
 * charging) the rest. When the upstream cuts off mid-answer, so is the client's answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { endToEndHeaders } from './upstream.js';
import type { UsageReader } from './usage.js';

/** Whether the answer reached the client whole. */
export function relay(upstream: IncomingMessage, res: ServerResponse, reader?: UsageReader): Promise<boolean> {
  res.writeHead(upstream.statusCode ?? 502, endToEndHeaders(upstream.headers));
  // A streaming client sees the status (and the limits) before the first event. (A plain answer's
  // head goes out with its first bytes, in one write.)
  if (String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (whole: boolean) => {
      if (settled) return;
      settled = true;
      resolve(whole);
    };
    upstream.on('data', (chunk: Buffer) => {
      reader?.push(chunk);
      if (!res.write(chunk)) upstream.pause();
    });
    res.on('drain', () => upstream.resume());
    upstream.once('end', () => res.end());
    res.once('finish', () => settle(true));
    res.once('close', () => {
      if (res.writableFinished) return;
      upstream.destroy();
      settle(false);
    });
    upstream.once('close', () => {
      if (upstream.complete) return;
      res.destroy();
      settle(false);
    });
    upstream.on('error', () => undefined);
  });
}
