// `claw-batch export` on 100k and 1M result lines: wall time and peak RSS, in the results file's
// order and in the input's order (--input, through the on-disk index). Flat memory means the 1M
// run's peak is about the 100k run's, not ten times it. Run: npm run build && node bench/export.js
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { runCli, table, tempDir } from './lib.js';

const sizes = (process.env.SIZES ?? '100000,1000000').split(',').map(Number);
const CATEGORIES = ['billing', 'bug', 'account', 'other'];

/** Results in completion order (a shuffle of the input), 1 in 20 a schema_error; and the input. */
async function writeFiles(dir, n) {
  const results = join(dir, `results-${n}.jsonl`);
  const input = join(dir, `items-${n}.jsonl`);
  const out = createWriteStream(results);
  const inp = createWriteStream(input);
  const put = async (stream, text) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  for (let i = 0; i < n; i++) await put(inp, `${JSON.stringify({ custom_id: `t-${i}`, prompt: `Ticket ${i}` })}\n`);
  // A fixed stride walks every index once in a scrambled order (the stride is prime to n).
  const stride = 7_919;
  for (let k = 0; k < n; k++) {
    const i = (k * stride) % n;
    const parsed = { category: CATEGORIES[i % 4], urgency: i % 3 ? 'low' : 'high', summary: `Ticket ${i}, "quoted", with a comma` };
    const line =
      i % 20 === 0
        ? { custom_id: `t-${i}`, result: { type: 'errored', error: { type: 'error', error: { type: 'schema_error', message: 'the answer is not valid JSON' } } } }
        : {
            custom_id: `t-${i}`,
            result: { type: 'succeeded', message: { id: `msg_${i}`, type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [{ type: 'text', text: JSON.stringify(parsed) }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 20 } } },
            parsed,
          };
    await put(out, `${JSON.stringify(line)}\n`);
  }
  out.end();
  inp.end();
  await Promise.all([once(out, 'finish'), once(inp, 'finish')]);
  return { results, input };
}

const dir = tempDir();
const rows = [];
try {
  for (const n of sizes) {
    const { results, input } = await writeFiles(dir, n);
    const mb = (statSync(results).size / 1e6).toFixed(0);
    for (const [order, extra] of [['file', []], ['input', ['--input', input]]]) {
      const csv = join(dir, `out-${n}-${order}.csv`);
      const r = await runCli(['export', results, '--csv', '-o', csv, ...extra], process.env);
      if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
      rows.push({ lines: n.toLocaleString('en-US'), 'results MB': mb, order, seconds: (r.ms / 1000).toFixed(1), 'peak RSS MB': r.peakRssMb?.toFixed(0) ?? '?' });
    }
  }
  console.log(table(rows, ['lines', 'results MB', 'order', 'seconds', 'peak RSS MB']));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
