// What the proxy costs when the limit is not the bottleneck: throughput through `claw-batch proxy`
// against the same SDK clients talking to the simulator directly (goal >= 0.8x), and the latency
// it adds per request at p50 and p99 — sequential calls, plain and streamed. The simulator and
// the proxy each run as their own process, as they would for real; the clients run here.
// Printed side by side; nothing asserts. Usage: npm run build && node bench/proxy.js [requests=3000] [concurrency=32]
// (A third row runs with 100 ms answers at twice the concurrency, as a real API's answer times hide the hop.)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { root, table, tempDir } from './lib.js';

const N = Number(process.argv[2] ?? 3000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const LATENCY_SAMPLES = 400;
// The proxy keeps its budgets where it would by default (`--shared-limits local`: SQLite in the state dir).
const state = tempDir();

/** Starts `claw-batch <args>` and resolves once it prints the URL `pattern` captures. */
function serve(args, pattern, env = {}) {
  const child = spawn(process.execPath, [join(root, 'bin/claw-batch.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', CLAW_BATCH_STOP_GRACE_MS: '1000', CLAW_BATCH_STATE_DIR: state, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = pattern.exec(err);
      if (m) resolve({ url: m[1], stop: () => new Promise((r) => (child.kill('SIGINT'), child.on('close', r))) });
    });
    child.on('close', (code) => reject(new Error(`claw-batch ${args[0]} exited ${code}: ${err}`)));
  });
}

const params = (i) => ({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: `Classify ticket ${i}: where is my order?` }] });

async function throughput(baseURL, concurrency) {
  const client = new Anthropic({ apiKey: 'bench-key', baseURL, maxRetries: 0 });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) await client.messages.create(params(next++));
    }),
  );
  return N / ((performance.now() - started) / 1000);
}

async function latencies(baseURL, stream) {
  const client = new Anthropic({ apiKey: 'bench-key', baseURL, maxRetries: 0 });
  const ms = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    if (stream) await client.messages.stream(params(i)).finalMessage();
    else await client.messages.create(params(i));
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const rows = [];
const ratios = [];
const FAR_ABOVE = ['--rpm', '1000000', '--itpm', '1000000000', '--otpm', '1000000000'];
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
for (const [label, simArgs, concurrency] of [
  ['no limit (no rate-limit headers)', [], CONCURRENCY],
  ['limits far above the load (budgets in the path)', FAR_ABOVE, CONCURRENCY],
  // As the API answers (here 100 ms): the proxy's cost hides behind the answer time.
  ['limits far above the load, 100 ms answers', [...FAR_ABOVE, '--latency-ms', '100'], 2 * CONCURRENCY],
]) {
  const sim = await serve(['simulate', '--port', '0', ...simArgs], /listening on (\S+)/);
  const proxy = await serve(['proxy', '--port', '0', '--upstream', sim.url], /export ANTHROPIC_BASE_URL=(\S+)/);
  // Warm both paths (connections, JIT, the proxy's cold start), then alternate, best of two.
  await throughput(sim.url, concurrency);
  await throughput(proxy.url, concurrency);
  const direct = [];
  const through = [];
  for (let round = 0; round < 3; round++) {
    direct.push(await throughput(sim.url, concurrency));
    through.push(await throughput(proxy.url, concurrency));
  }
  const d = Math.max(...direct);
  const p = Math.max(...through);
  ratios.push(`${label}: ${(p / d).toFixed(2)}x`);
  rows.push({ path: `direct, ${label}, concurrency ${concurrency}`, 'requests/s': Math.round(d) });
  rows.push({ path: `through the proxy, ${label}, concurrency ${concurrency}`, 'requests/s': Math.round(p) });

  if (simArgs === FAR_ABOVE) {
    for (const stream of [false, true]) {
      const a = await latencies(sim.url, stream);
      const b = await latencies(proxy.url, stream);
      const kind = stream ? 'streamed' : 'plain';
      rows.push({ path: `direct, sequential ${kind}`, 'p50 ms': pct(a, 0.5).toFixed(2), 'p99 ms': pct(a, 0.99).toFixed(2) });
      rows.push({
        path: `through the proxy, sequential ${kind}`,
        'p50 ms': pct(b, 0.5).toFixed(2),
        'p99 ms': pct(b, 0.99).toFixed(2),
        'added p50 ms': (pct(b, 0.5) - pct(a, 0.5)).toFixed(2),
        'added p99 ms': (pct(b, 0.99) - pct(a, 0.99)).toFixed(2),
      });
    }
  }
  await proxy.stop();
  await sim.stop();
}

const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`${N} requests per throughput run (best of 3, alternating); ${LATENCY_SAMPLES} sequential calls per latency row (simulator latency 0)`);
console.log(`${cpus().length} cores; load average ${loadBefore} before, ${loadAfter} after: the proxy is a third process on them\n`);
console.log(table(rows, ['path', 'requests/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms']));
console.log(`\nthroughput through the proxy / direct: ${ratios.join('; ')} (goal >= 0.8)`);
