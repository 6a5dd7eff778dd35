/**
 * A message as server-sent events, exactly the API's sequence: `message_start` (the message with
 * empty content, its input usage and a small `output_tokens`), `content_block_start`, `ping`,
 * `content_block_delta` (`text_delta`) chunks spread evenly over the output's time,
 * `content_block_stop`, `message_delta` (`stop_reason`, cumulative `usage.output_tokens`),
 * `message_stop`. The headers go out at once, with the first event. An empty reply (`max_tokens:
 * 0`) has no content block.
 */
import type { ServerResponse } from 'node:http';
import type { SimulatedMessage } from './replies.js';
import { untilClosed, waitUntil } from './wait.js';

/** Most `content_block_delta` events of one answer: enough to arrive incrementally, few enough to stay cheap. */
const MAX_DELTAS = 32;
/** Output tokens per delta when an answer is short. */
const TOKENS_PER_DELTA = 4;

export type StreamOutcome =
  | { kind: 'done'; at: number }
  /** The client went away before the end. */
  | { kind: 'aborted'; at: number }
  /** The stall fault: the stream stopped sending here; the client has given up since. */
  | { kind: 'stalled'; at: number };

export interface StreamPlan {
  /** Epoch ms output starts and ends. */
  outputStart: number;
  outputEnd: number;
  /** Stop sending half-way and never end (the stall fault). */
  stall: boolean;
  /** Called the moment a stall starts, before waiting for the client to give up. */
  onStall(at: number): void;
  /** Called when output starts: the prompt has been read (a prefix it writes is readable from now). */
  onOutputStart?(at: number): void;
}

const event = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

function chunksOf(text: string, outputTokens: number): string[] {
  if (text === '') return [];
  const n = Math.max(1, Math.min(MAX_DELTAS, Math.ceil(outputTokens / TOKENS_PER_DELTA), text.length));
  const chunks: string[] = [];
  for (let k = 0; k < n; k++) chunks.push(text.slice(Math.round((k * text.length) / n), Math.round(((k + 1) * text.length) / n)));
  return chunks;
}

export async function streamMessage(
  res: ServerResponse,
  requestId: string,
  headers: Record<string, string>,
  message: SimulatedMessage,
  plan: StreamPlan,
): Promise<StreamOutcome> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId,
    ...headers,
  });
  const { usage } = message;
  const text = message.content[0]?.text ?? '';
  const start = {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens) } },
  };
  let head = event('message_start', start);
  if (text !== '') head += event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  res.write(head + event('ping', { type: 'ping' }));

  const chunks = chunksOf(text, usage.output_tokens);
  const stallAt = plan.stall ? Math.floor(chunks.length / 2) : -1;
  const span = plan.outputEnd - plan.outputStart;
  if (!(await waitUntil(res, plan.outputStart))) return { kind: 'aborted', at: Date.now() };
  plan.onOutputStart?.(Date.now());
  for (let k = 0; k < chunks.length; k++) {
    const due = plan.outputStart + ((k + 1) / chunks.length) * span;
    if (k === stallAt) return stalled(res, Date.now(), plan);
    if (!(await waitUntil(res, due))) return { kind: 'aborted', at: Date.now() };
    res.write(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: chunks[k] } }));
  }
  if (stallAt >= 0) return stalled(res, Date.now(), plan);
  if (!(await waitUntil(res, plan.outputEnd))) return { kind: 'aborted', at: Date.now() };
  let tail = text !== '' ? event('content_block_stop', { type: 'content_block_stop', index: 0 }) : '';
  tail += event('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  tail += event('message_stop', { type: 'message_stop' });
  res.end(tail);
  return { kind: 'done', at: Date.now() };
}

async function stalled(res: ServerResponse, at: number, plan: StreamPlan): Promise<StreamOutcome> {
  plan.onStall(at);
  await untilClosed(res);
  return { kind: 'stalled', at };
}
