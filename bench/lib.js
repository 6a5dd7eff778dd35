// Shared by the benchmark scripts: the simulator from dist/, the CLI as a child process, and a
// table printer. Benchmarks print ratios measured side by side in one run; nothing here asserts.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const { startSimulator } = await import(join(root, 'dist/simulator/index.js'));

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'claw-batch-bench-'));
}

export function writeItems(dir, n, prompt = (i) => `Classify ticket ${i}: where is my order?`) {
  const path = join(dir, `items-${n}.jsonl`);
  const lines = new Array(n);
  for (let i = 0; i < n; i++) lines[i] = JSON.stringify({ custom_id: `t-${i + 1}`, prompt: prompt(i + 1) });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Runs the CLI under /usr/bin/time -f %M (peak RSS in KB) when available. */
export function runCli(args, env) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const useTime = process.platform === 'linux';
    const cmd = useTime ? '/usr/bin/time' : process.execPath;
    const argv = useTime ? ['-f', 'PEAK_RSS_KB=%M', process.execPath, join(root, 'bin/claw-batch.js'), ...args] : [join(root, 'bin/claw-batch.js'), ...args];
    const child = spawn(cmd, argv, { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /PEAK_RSS_KB=(\d+)/.exec(stderr);
      resolve({ code, ms: performance.now() - started, peakRssMb: m ? Number(m[1]) / 1024 : undefined, stderr });
    });
  });
}

export function countResults(path) {
  const counts = { succeeded: 0, errored: 0 };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const t = JSON.parse(line).result.type;
    counts[t === 'succeeded' ? 'succeeded' : 'errored'] += 1;
  }
  return counts;
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  const out = [line(columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
  for (const r of rows) out.push(line(columns.map((c) => r[c] ?? '')));
  return out.join('\n');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
