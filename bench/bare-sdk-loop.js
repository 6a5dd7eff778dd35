// The baseline for bench/per-request.js: the least a program can do to send
// every line of a JSONL file through the SDK at a fixed concurrency and append each result — no
// validation, no limits, no retries, no progress.
// Usage: node bench/bare-sdk-loop.js <items.jsonl> <out.jsonl> <concurrency> [create|stream]
// `create` (the default) is a plain messages.create; `stream` is messages.stream(...).finalMessage(),
// the SDK's own way to stream an answer into a Message.
import Anthropic from '@anthropic-ai/sdk';
import { createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [input, output, concurrencyArg, mode = 'create'] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const client = new Anthropic({ maxRetries: 0 });
const fd = openSync(output, 'w');
const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity })[Symbol.asyncIterator]();

async function send(params) {
  if (mode === 'stream') return client.messages.stream(params).finalMessage();
  return client.messages.create(params);
}

async function worker() {
  for (;;) {
    const next = await lines.next();
    if (next.done) return;
    if (!next.value.trim()) continue;
    const rec = JSON.parse(next.value);
    const message = await send({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: rec.prompt }],
    });
    writeSync(fd, `${JSON.stringify({ custom_id: rec.custom_id, result: { type: 'succeeded', message } })}\n`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
