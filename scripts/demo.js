#!/usr/bin/env node
// `npm run demo`: runs a real job end to end on fixtures/tickets.jsonl against the built-in
// simulator, started on a free port with the API's rules at the Start tier (1,000 requests, 2M
// input and 400k output tokens a minute per model class) and answers that take about as long as
// real ones: ~1 s to the first token, then 60 tokens a second, 25-80 tokens each (1-3 s in all).
// No API key and no network needed. To send the same 40 small requests to the real API instead,
// set CLAW_BATCH_DEMO_REAL=1 and ANTHROPIC_API_KEY.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'demo-output');
const out = join(outDir, 'results.jsonl');
mkdirSync(outDir, { recursive: true });

const env = { ...process.env };
const real = process.env.CLAW_BATCH_DEMO_REAL === '1';
if (real && !env.ANTHROPIC_API_KEY) {
  process.stderr.write('demo: CLAW_BATCH_DEMO_REAL=1 needs ANTHROPIC_API_KEY\n');
  process.exit(2);
}
let sim;
if (!real) {
  const { startSimulator } = await import('../dist/simulator/index.js');
  sim = await startSimulator({
    tier: 'start',
    latencyMs: 1000,
    jitterMs: 400,
    outputTokensPerSecond: 60,
    replyTokens: { min: 25, max: 80 },
  });
  env.ANTHROPIC_BASE_URL = sim.url;
  env.ANTHROPIC_API_KEY = 'demo-key';
  env.CLAW_BATCH_STATE_DIR = join(outDir, 'state');
  delete env.ANTHROPIC_AUTH_TOKEN;
  process.stderr.write(
    `demo: using the built-in simulator at ${sim.url} (Start tier limits, 1-3 s answers); CLAW_BATCH_DEMO_REAL=1 uses the real API\n`,
  );
} else {
  process.stderr.write('demo: CLAW_BATCH_DEMO_REAL=1, so this runs against the real API (40 small requests)\n');
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
