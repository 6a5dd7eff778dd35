// Peak memory of the Batches path on a job over the 100,000-request cap: `submit` (validate, chunk,
// create) and `poll --wait` (stream the results to a file), each as its own process against the
// simulator. Chunking holds one batch's requests at a time and results stream line by line, so
// the live memory follows the batch size, not the input size. By default V8 lets garbage pile up
// while it has room, so peak RSS grows with the work done; the second pass caps the old space at
// 64 MB (--max-old-space-size=64) to show what is actually live: it stays flat.
// Usage: npm run build && node bench/batch-memory.js [items=120000] [more=240000]
import { join } from 'node:path';
import { countResults, runCli, startSimulator, table, tempDir, writeItems } from './lib.js';

const sizes = [Number(process.argv[2] ?? 120_000), Number(process.argv[3] ?? 240_000)];
const sim = await startSimulator({ batchMs: 500 });
const dir = tempDir();
const env = {
  ANTHROPIC_BASE_URL: sim.url,
  ANTHROPIC_API_KEY: 'bench-key',
  CLAW_BATCH_STATE_DIR: join(dir, 'state'),
  CLAW_BATCH_POLL_INTERVAL_S: '0.5',
};

const rows = [];
try {
  const cases = ['default', '64'].flatMap((heap) => sizes.map((n) => ({ heap, n })));
  for (const { heap, n } of cases) {
    const input = writeItems(dir, n);
    const flags = ['--model', 'claude-haiku-4-5', '--max-tokens', '64', '--force'];
    const runEnv = heap === 'default' ? env : { ...env, NODE_OPTIONS: `--max-old-space-size=${heap}` };
    const submitted = await runCli(['submit', input, ...flags], runEnv);
    const jobId = /job_\d{8}_\d{6}_[0-9a-f]{4}/.exec(submitted.stderr)?.[0];
    if (submitted.code !== 0 || !jobId) throw new Error(`submit failed (${submitted.code}): ${submitted.stderr}`);
    const out = join(dir, `results-${n}-${heap}.jsonl`);
    const polled = await runCli(['poll', jobId, '--wait', '-o', out], runEnv);
    if (polled.code !== 0) throw new Error(`poll failed (${polled.code}): ${polled.stderr}`);
    const batches = (submitted.stderr.match(/created msgbatch_/g) ?? []).length;
    const { succeeded } = countResults(out);
    rows.push({
      'old space MB': heap,
      items: n,
      batches,
      succeeded,
      'submit s': (submitted.ms / 1000).toFixed(1),
      'submit peak RSS MB': submitted.peakRssMb?.toFixed(0) ?? '?',
      'poll s': (polled.ms / 1000).toFixed(1),
      'poll peak RSS MB': polled.peakRssMb?.toFixed(0) ?? '?',
    });
  }
} finally {
  await sim.close();
}
console.log(table(rows, Object.keys(rows[0] ?? {})));
