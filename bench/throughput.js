// With no limit and no latency, how close does claw-batch come to a bare SDK loop at the same
// concurrency (target >= 0.9x), and does its memory stay flat from 20k to 200k items (target:
// flat, under 150 MB)? Usage: npm run build && node bench/throughput.js [items=20000] [big=200000]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { countResults, root, runCli, startSimulator, table, tempDir, writeItems } from './lib.js';

const N = Number(process.argv[2] ?? 20_000);
const BIG = Number(process.argv[3] ?? 200_000);
const CONCURRENCY = 16;
const sim = await startSimulator({});
const dir = tempDir();
const env = { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: 'bench-key', CLAW_BATCH_STATE_DIR: join(dir, 'state') };

function bare(input, out) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', process.execPath, join(root, 'bench/bare-sdk-loop.js'), input, out, String(CONCURRENCY)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /PEAK_RSS_KB=(\d+)/.exec(stderr);
      resolve({ code, ms: performance.now() - started, peakRssMb: m ? Number(m[1]) / 1024 : undefined });
    });
  });
}

// `transport: json` sends plain calls as the bare loop does; the default streams every answer
// (what lets a stuck connection be seen within seconds, and output be charged as it is produced).
const claw = (input, out, transport = 'stream') =>
  runCli(['run', input, '-o', out, '--realtime', '--concurrency', String(CONCURRENCY), '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--quiet'], { ...env, CLAW_BATCH_TRANSPORT: transport });

const rows = [];
const small = writeItems(dir, N);
// Alternate the two, twice, so neither always runs on a warmer machine.
const times = { bare: [], claw: [], json: [] };
let clawRss;
let bareRss;
for (let round = 0; round < 2; round++) {
  const b = await bare(small, join(dir, `bare-${round}.jsonl`));
  const c = await claw(small, join(dir, `claw-${round}.jsonl`));
  if (c.code !== 0) throw new Error(`claw-batch exited ${c.code}: ${c.stderr}`);
  const j = await claw(small, join(dir, `json-${round}.jsonl`), 'json');
  if (j.code !== 0) throw new Error(`claw-batch (json) exited ${j.code}: ${j.stderr}`);
  times.bare.push(b.ms);
  times.claw.push(c.ms);
  times.json.push(j.ms);
  bareRss = b.peakRssMb;
  clawRss = c.peakRssMb;
  const done = countResults(join(dir, `claw-${round}.jsonl`)).succeeded;
  if (done !== N) throw new Error(`claw-batch wrote ${done} of ${N}`);
}
const best = (xs) => Math.min(...xs);
rows.push({ run: `bare SDK loop, ${N} items`, seconds: (best(times.bare) / 1000).toFixed(2), 'items/s': Math.round(N / (best(times.bare) / 1000)), 'peak RSS MB': bareRss?.toFixed(0) });
rows.push({ run: `claw-batch, ${N} items`, seconds: (best(times.claw) / 1000).toFixed(2), 'items/s': Math.round(N / (best(times.claw) / 1000)), 'peak RSS MB': clawRss?.toFixed(0) });
rows.push({ run: `claw-batch transport json, ${N}`, seconds: (best(times.json) / 1000).toFixed(2), 'items/s': Math.round(N / (best(times.json) / 1000)), 'peak RSS MB': '' });

const big = writeItems(dir, BIG);
const cb = await claw(big, join(dir, 'claw-big.jsonl'));
if (cb.code !== 0) throw new Error(`claw-batch exited ${cb.code}: ${cb.stderr}`);
rows.push({ run: `claw-batch, ${BIG} items`, seconds: (cb.ms / 1000).toFixed(2), 'items/s': Math.round(BIG / (cb.ms / 1000)), 'peak RSS MB': cb.peakRssMb?.toFixed(0) });
await sim.close();

console.log(`no limit, no latency, concurrency ${CONCURRENCY}; best of 2 alternating rounds for the ${N}-item pair\n`);
console.log(table(rows, ['run', 'seconds', 'items/s', 'peak RSS MB']));
console.log(`\nthroughput ratio claw-batch / bare SDK loop: ${(best(times.bare) / best(times.claw)).toFixed(2)}x streamed (the default), ${(best(times.bare) / best(times.json)).toFixed(2)}x with transport json (target >= 0.9)`);
console.log(`peak RSS ${BIG} / ${N} items: ${cb.peakRssMb && clawRss ? (cb.peakRssMb / clawRss).toFixed(2) : '?'}x (target: flat, under 150 MB)`);
