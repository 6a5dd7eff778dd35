/**
 * Passes an upstream answer's bytes to the client as they arrive: a streamed answer event by
 * event, never the whole of it held. A copy of each chunk goes to a usage reader on the way. When
 * the client goes away mid-answer the pipeline tears down the upstream response too, which closes
 * its connection: the API stops producing (and charging) the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { endToEndHeaders } from './upstream.js';
import type { UsageReader } from './usage.js';

/** Whether the answer reached the client whole. */
export async function relay(upstream: IncomingMessage, res: ServerResponse, reader?: UsageReader): Promise<boolean> {
  res.writeHead(upstream.statusCode ?? 502, endToEndHeaders(upstream.headers));
  // The head goes out at once: a streaming client sees the status (and the limits) before the first event.
  res.flushHeaders();
  if (reader) upstream.on('data', (chunk: Buffer) => reader.push(chunk));
  try {
    await pipeline(upstream, res);
    return true;
  } catch {
    return false;
  }
}
