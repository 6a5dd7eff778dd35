#!/usr/bin/env node
// `npm run demo`: runs a real job end to end on fixtures/tickets.jsonl. With ANTHROPIC_API_KEY
// set it talks to the real API; without one it starts the built-in simulator on a free port
// (a 300 requests/min limit, ~300 ms replies) and points the CLI at it. No network needed then.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'demo-output');
const out = join(outDir, 'results.jsonl');
mkdirSync(outDir, { recursive: true });

const env = { ...process.env };
let sim;
if (!env.ANTHROPIC_API_KEY) {
  const { startSimulator } = await import('../dist/simulator/index.js');
  sim = await startSimulator({ rpm: 300, latencyMs: 300, jitterMs: 150 });
  env.ANTHROPIC_BASE_URL = sim.url;
  env.ANTHROPIC_API_KEY = 'demo-key';
  env.CLAW_BATCH_STATE_DIR = join(outDir, 'state');
  process.stderr.write(`demo: no ANTHROPIC_API_KEY, so using the built-in simulator at ${sim.url} (300 requests/min)\n`);
} else {
  process.stderr.write('demo: ANTHROPIC_API_KEY is set, so this runs against the real API (about 40 small requests)\n');
}

const args = [
  join(root, 'bin/claw-batch.js'),
  'run',
  join(root, 'fixtures/tickets.jsonl'),
  '-o',
  out,
  '--fresh',
  '--model',
  process.env.CLAW_BATCH_DEMO_MODEL ?? 'claude-haiku-4-5',
  '--max-tokens',
  '128',
  '--system',
  'Classify the support ticket as billing, shipping, account or other. Answer with one word.',
];
const child = spawn(process.execPath, args, { env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
if (sim) await sim.close();
process.stderr.write(`demo: exit code ${code}; results in ${out}\n`);
process.exitCode = code;
