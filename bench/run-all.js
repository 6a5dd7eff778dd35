// `npm run bench`: every benchmark, one after another, each printing ratios measured side by side
// in its own run (the machines are shared and noisy; nothing here asserts a threshold).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.js';

const benches = [
  ['limiters.js', 'claw-batch against hand-written limiters, scenario by scenario'],
  ['per-request.js', 'no limit, no latency: claw-batch run against bare SDK create and stream loops; requests/s, CPU and RSS at 20k and 200k items'],
  ['limit-store.js', 'what one take-or-wait costs on each limit store, and items/s with each store'],
  ['proxy.js', 'throughput through the proxy against direct, and the latency it adds'],
  ['organization.js', 'keys of one organization through the proxy and run, two organizations, a workspace, unseen traffic, short jobs'],
  ['batch-memory.js', 'the Batches API path: submit and poll memory at 120k and 240k items'],
  ['report.js', "the run report of a 200k- and a 1M-item job: the log's and the page's size, time to open in Chromium"],
];
let failed = 0;
for (const [file, what] of benches) {
  const path = join(root, 'bench', file);
  if (!existsSync(path)) {
    console.log(`\n# ${file}: not here (skipped)`);
    continue;
  }
  console.log(`\n# ${file}: ${what}\n`);
  const code = await new Promise((resolve) => spawn(process.execPath, [path], { stdio: 'inherit' }).on('close', resolve));
  if (code !== 0) {
    failed += 1;
    console.log(`\n# ${file} exited ${code}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
