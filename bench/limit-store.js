// What one take-or-wait costs on each limit store: in-process (off), SQLite (local) and Redis (a
// redis-server this script starts on a free port), bare and behind the fallback wrapper that `run`
// uses. p50 and p99 over N sequential calls, side by side from one run; the machine is shared and
// noisy, so read the ratios, not the absolute figures. Nothing here asserts.
// Usage: npm run build && node bench/limit-store.js [calls=20000]
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { countResults, root, runCli, startSimulator, table, tempDir, writeItems } from './lib.js';

const N = Number(process.argv[2] ?? 20_000);
const WARMUP = 1000;
const { MemoryStore } = await import(join(root, 'dist/limits/memory-store.js'));
const { SqliteStore } = await import(join(root, 'dist/limits/sqlite-store.js'));
const { RedisStore } = await import(join(root, 'dist/limits/redis-store.js'));
const { FallbackStore } = await import(join(root, 'dist/limits/fallback-store.js'));

// Limits far above what N calls take, so every call is a full read-compute-write that succeeds.
const spec = {
  requests: { perMinute: 1e12, capacitySeconds: 0.75, fullSeconds: 1 },
  inputTokens: { perMinute: 1e15, capacitySeconds: 0.75, fullSeconds: 1 },
  outputTokens: { perMinute: 1e15, capacitySeconds: 0.75, fullSeconds: 1 },
};
const cost = { requests: 1, inputTokens: 1200, outputTokens: 0 };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  process.on('exit', () => child.kill('SIGKILL'));
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true))).on('error', () => resolve(false));
    });
    if (up) return { port, child };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis-server did not start');
}

async function measure(name, store) {
  const key = { account: `bench-${name}`, modelClass: 'claude-haiku-4-5' };
  for (let i = 0; i < WARMUP; i++) await store.take(key, cost, spec);
  const times = new Float64Array(N);
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await store.take(key, cost, spec);
    times[i] = performance.now() - t;
    if (!r.ok) throw new Error(`${name}: a take had to wait (${r.waitMs} ms)`);
  }
  const total = performance.now() - started;
  times.sort();
  const at = (q) => times[Math.min(N - 1, Math.floor(q * N))];
  return { store: name, p50: at(0.5), p99: at(0.99), perSecond: N / (total / 1000) };
}

const dir = tempDir();
const redis = await startRedis();
const url = `redis://127.0.0.1:${redis.port}/0`;
const rows = [];
rows.push(await measure('off (memory)', new MemoryStore()));
rows.push(await measure('local (SQLite)', new SqliteStore({ file: join(dir, 'limits.sqlite') })));
rows.push(await measure('local + fallback', new FallbackStore(new SqliteStore({ file: join(dir, 'limits.sqlite') }))));
rows.push(await measure('redis', await RedisStore.connect({ url })));
rows.push(await measure('redis + fallback', new FallbackStore(await RedisStore.connect({ url }))));

// The same store under a whole run: `claw-batch run` with no limit at the API and no latency, told
// a limit far above what it can reach (so every request goes through the store and never waits),
// items/s with each --shared-limits against off. Alternating, best of two.
const RUN_ITEMS = Number(process.env.BENCH_RUN_ITEMS ?? 10_000);
const sim = await startSimulator({});
const input = writeItems(dir, RUN_ITEMS);
const runs = { off: [], local: [], redis: [] };
for (let round = 0; round < 2; round++) {
  for (const where of ['off', 'local', 'redis']) {
    const out = join(dir, `run-${where}-${round}.jsonl`);
    const shared = where === 'redis' ? url : where;
    const r = await runCli(['run', input, '-o', out, '--realtime', '--rpm', '1000000000', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--quiet', '--shared-limits', shared], {
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'bench-key',
      CLAW_BATCH_STATE_DIR: join(dir, `state-${where}`),
    });
    if (r.code !== 0 || countResults(out).succeeded !== RUN_ITEMS) throw new Error(`run with ${where} failed: ${r.stderr}`);
    runs[where].push(r.ms);
  }
}
await sim.close();
redis.child.kill('SIGKILL');
const bestMs = (xs) => Math.min(...xs);
const runRows = Object.entries(runs).map(([where, ms]) => ({
  'shared-limits': where,
  seconds: (bestMs(ms) / 1000).toFixed(2),
  'items/s': Math.round(RUN_ITEMS / (bestMs(ms) / 1000)),
  'vs off': `${(bestMs(runs.off) / bestMs(ms)).toFixed(2)}x`,
}));

const base = rows[0];
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
console.log(`One take-or-wait, ${N} sequential calls each (after ${WARMUP} to warm up), Node ${process.version}:\n`);
console.log(
  table(
    rows.map((r) => ({
      store: r.store,
      p50: us(r.p50),
      p99: us(r.p99),
      'calls/s': Math.round(r.perSecond).toLocaleString('en-US'),
      'p50 vs off': `${(r.p50 / base.p50).toFixed(1)}x`,
    })),
    ['store', 'p50', 'p99', 'calls/s', 'p50 vs off'],
  ),
);
console.log(`\nclaw-batch run, ${RUN_ITEMS} items, no limit and no latency at the API, best of 2 alternating rounds (goal: >= 0.8x of off):\n`);
console.log(table(runRows, ['shared-limits', 'seconds', 'items/s', 'vs off']));
process.exit(0);
