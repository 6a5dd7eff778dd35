// What one request costs: with no limit and no latency, in one run and side by side, the whole
// process's requests/s, CPU and peak RSS for a bare SDK `messages.create` loop, a bare
// `messages.stream` loop, and `claw-batch run` (the built CLI) at the same concurrency, at a small
// and a large item count. Targets (issue 19): claw-batch >= 0.9x the create loop's requests/s,
// peak RSS <= 1.1x the create loop's at the small count, and flat to the large one.
// Usage: npm run build && node bench/per-request.js [small=20000] [big=200000] [rounds=2] [latencyMs=0]
// (big=0 skips the large count; latencyMs > 0 gives answers that take latencyMs +/- a third, as
// real ones do, where both loops wait on the API instead of the CPU). Each contender is a child
// process under /usr/bin/time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { countResults, root, startSimulator, table, tempDir, writeItems } from './lib.js';

const SMALL = Number(process.argv[2] ?? 20_000);
const BIG = Number(process.argv[3] ?? 200_000);
const ROUNDS = Number(process.argv[4] ?? 2);
const LATENCY_MS = Number(process.argv[5] ?? 0);
const CONCURRENCY = 16;
const sim = await startSimulator(LATENCY_MS > 0 ? { latencyMs: LATENCY_MS, jitterMs: Math.round(LATENCY_MS / 3) } : {});
const dir = tempDir();
const env = { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: 'bench-key', CLAW_BATCH_STATE_DIR: join(dir, 'state'), NO_COLOR: '1' };

/** Runs `node args...` under /usr/bin/time: wall ms, peak RSS MB, CPU seconds (user + system). */
function measured(args, extraEnv = {}) {
  const started = performance.now();
  // The simulator runs in this process: its CPU while a contender runs is the server's share of
  // the two cores (a streamed answer costs the server more than a plain one).
  const simCpu = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M CPU_S=%U+%S', process.execPath, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      const rss = /PEAK_RSS_KB=(\d+)/.exec(stderr);
      const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
      const sim = process.cpuUsage(simCpu);
      resolve({ ms, rssMb: rss ? Number(rss[1]) / 1024 : NaN, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, simCpuS: (sim.user + sim.system) / 1e6 });
    });
  });
}

const contenders = {
  'bare create': (input, out) => measured([join(root, 'bench/bare-sdk-loop.js'), input, out, String(CONCURRENCY), 'create']),
  'bare stream': (input, out) => measured([join(root, 'bench/bare-sdk-loop.js'), input, out, String(CONCURRENCY), 'stream']),
  // The default transport streams every answer (a stuck connection is seen in seconds; output is
  // charged as it is produced).
  'claw-batch run': (input, out) =>
    measured([join(root, 'bin/claw-batch.js'), 'run', input, '-o', out, '--realtime', '--concurrency', String(CONCURRENCY), '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--quiet']),
};

/** Every contender on `n` items, `rounds` times in turn (so none always runs on a warmer machine); the best of each. */
async function measureAt(n, rounds) {
  const input = writeItems(dir, n);
  const best = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const out = join(dir, `${name.replace(/\W+/g, '-')}-${n}-${round}.jsonl`);
      const r = await run(input, out);
      const done = countResults(out).succeeded;
      if (done !== n) throw new Error(`${name} wrote ${done} of ${n} results`);
      const b = best[name];
      // Fastest round for speed and CPU; the highest peak seen for memory (a peak is a worst case).
      best[name] = b ? { ms: Math.min(b.ms, r.ms), cpuS: Math.min(b.cpuS, r.cpuS), simCpuS: Math.min(b.simCpuS, r.simCpuS), rssMb: Math.max(b.rssMb, r.rssMb) } : r;
    }
  }
  return best;
}

const results = { [SMALL]: await measureAt(SMALL, ROUNDS) };
if (BIG > 0) results[BIG] = await measureAt(BIG, 1);
await sim.close();

const rows = [];
for (const [n, byName] of Object.entries(results)) {
  const base = byName['bare create'];
  for (const [name, r] of Object.entries(byName)) {
    rows.push({
      run: `${name}, ${n} items`,
      seconds: (r.ms / 1000).toFixed(2),
      'req/s': Math.round(Number(n) / (r.ms / 1000)),
      'vs create': (base.ms / r.ms).toFixed(2),
      'CPU ms/req': ((r.cpuS * 1000) / Number(n)).toFixed(3),
      'CPU vs create': (r.cpuS / base.cpuS).toFixed(2),
      'sim CPU ms/req': ((r.simCpuS * 1000) / Number(n)).toFixed(3),
      'peak RSS MB': r.rssMb.toFixed(0),
      'RSS vs create': (r.rssMb / base.rssMb).toFixed(2),
    });
  }
}
console.log(`no limit, ${LATENCY_MS > 0 ? `answers in ${LATENCY_MS} ms +/- ${Math.round(LATENCY_MS / 3)}` : 'no latency'}, concurrency ${CONCURRENCY}; ${SMALL} items: best of ${ROUNDS} alternating rounds (highest peak RSS)${BIG > 0 ? `; ${BIG} items: one round` : ''}\n`);
console.log(table(rows, ['run', 'seconds', 'req/s', 'vs create', 'CPU ms/req', 'CPU vs create', 'sim CPU ms/req', 'peak RSS MB', 'RSS vs create']));
const small = results[SMALL];
const claw = small['claw-batch run'];
console.log(`\nclaw-batch / bare create, ${SMALL} items: ${(small['bare create'].ms / claw.ms).toFixed(2)}x requests/s (target >= 0.9), ${(claw.rssMb / small['bare create'].rssMb).toFixed(2)}x peak RSS (target <= 1.1)`);
if (BIG > 0) {
  const big = results[BIG]['claw-batch run'];
  console.log(`claw-batch peak RSS ${BIG} / ${SMALL} items: ${(big.rssMb / claw.rssMb).toFixed(2)}x (target: flat); ${(results[BIG]['bare create'].ms / big.ms).toFixed(2)}x requests/s at ${BIG}`);
}
