// claw-batch against the limiters people write by hand, on the simulator at the same limit
// (600 requests/min enforced as a one-second token bucket, 300 items, ~100 ms replies).
// Hand-written clients use the SDK with maxRetries: 0, as the naive loops in the wild do; a
// 429 is a lost item for them. Usage: npm run build && node bench/limiters.js [items] [rpm]
import Anthropic from '@anthropic-ai/sdk';
import PQueue from 'p-queue';
import { join } from 'node:path';
import { countResults, runCli, sleep, startSimulator, table, tempDir, writeItems } from './lib.js';

const N = Number(process.argv[2] ?? 300);
const RPM = Number(process.argv[3] ?? 600);
const MODEL = 'claude-haiku-4-5';
const ideal = (N / RPM) * 60_000;

const sim = await startSimulator({ rpm: RPM, burstSeconds: 1, latencyMs: 100, jitterMs: 50 });
const client = new Anthropic({ apiKey: 'bench-key', baseURL: sim.url, maxRetries: 0 });
const params = (i) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: `Classify ticket ${i}: where is my order?` }] });
const ids = Array.from({ length: N }, (_, i) => i + 1);

async function send(i, tally) {
  try {
    await client.messages.create(params(i));
    tally.succeeded += 1;
  } catch {
    tally.failed += 1;
  }
}

const approaches = {
  'fire all at once': async (tally) => {
    await Promise.all(ids.map((i) => send(i, tally)));
  },
  '60 s sliding window': async (tally) => {
    const sent = [];
    await Promise.all(
      ids.map(async (i) => {
        for (;;) {
          const now = Date.now();
          while (sent.length && sent[0] <= now - 60_000) sent.shift();
          if (sent.length < RPM) break;
          await sleep(sent[0] + 60_000 - now);
        }
        sent.push(Date.now());
        await send(i, tally);
      }),
    );
  },
  '5 workers, 1 s sleep': async (tally) => {
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          await send(i, tally);
          await sleep(1000);
        }
      }),
    );
  },
  'p-queue, intervalCap per minute': async (tally) => {
    const q = new PQueue({ intervalCap: RPM, interval: 60_000, concurrency: 50 });
    await Promise.all(ids.map((i) => q.add(() => send(i, tally))));
  },
};

const rows = [];
for (const [name, fn] of Object.entries(approaches)) {
  await sleep(1500); // let the bucket refill between contenders
  sim.resetCounters();
  const tally = { succeeded: 0, failed: 0 };
  const t0 = performance.now();
  await fn(tally);
  const ms = performance.now() - t0;
  rows.push({ approach: name, succeeded: tally.succeeded, failed: tally.failed, '429s': sim.counters().rateLimited, 'time / (N/limit)': (ms / ideal).toFixed(2) });
}

await sleep(1500);
sim.resetCounters();
const dir = tempDir();
const input = writeItems(dir, N);
const out = join(dir, 'out.jsonl');
const r = await runCli(['run', input, '-o', out, '--rpm', String(RPM), '--concurrency', '8', '--model', MODEL, '--max-tokens', '64', '--realtime', '--quiet'], {
  ANTHROPIC_BASE_URL: sim.url,
  ANTHROPIC_API_KEY: 'bench-key',
  CLAW_BATCH_STATE_DIR: join(dir, 'state'),
});
const c = countResults(out);
rows.push({ approach: 'claw-batch run --rpm', succeeded: c.succeeded, failed: c.errored, '429s': sim.counters().rateLimited, 'time / (N/limit)': (r.ms / ideal).toFixed(2) });

await sleep(1500);
sim.resetCounters();
const out2 = join(dir, 'out2.jsonl');
const r2 = await runCli(['run', input, '-o', out2, '--concurrency', '8', '--model', MODEL, '--max-tokens', '64', '--realtime', '--quiet'], {
  ANTHROPIC_BASE_URL: sim.url,
  ANTHROPIC_API_KEY: 'bench-key',
  CLAW_BATCH_STATE_DIR: join(dir, 'state2'),
});
const c2 = countResults(out2);
rows.push({ approach: 'claw-batch run (limit learned)', succeeded: c2.succeeded, failed: c2.errored, '429s': sim.counters().rateLimited, 'time / (N/limit)': (r2.ms / ideal).toFixed(2) });

await sim.close();
console.log(`${N} items, limit ${RPM} requests/min as a one-second bucket; N/limit = ${(ideal / 1000).toFixed(1)} s\n`);
console.log(table(rows, ['approach', 'succeeded', 'failed', '429s', 'time / (N/limit)']));
