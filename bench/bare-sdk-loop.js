// The baseline for bench/throughput.js: the least a program can do to send every line of a JSONL
// file through the SDK at a fixed concurrency and append each result — no validation, no limits,
// no retries, no progress. Usage: node bench/bare-sdk-loop.js <items.jsonl> <out.jsonl> <concurrency>
import Anthropic from '@anthropic-ai/sdk';
import { createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [input, output, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const client = new Anthropic({ maxRetries: 0 });
const fd = openSync(output, 'w');
const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity })[Symbol.asyncIterator]();

async function worker() {
  for (;;) {
    const next = await lines.next();
    if (next.done) return;
    if (!next.value.trim()) continue;
    const rec = JSON.parse(next.value);
    const message = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: rec.prompt }],
    });
    writeSync(fd, `${JSON.stringify({ custom_id: rec.custom_id, result: { type: 'succeeded', message } })}\n`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
