// The run report at size: synthesises the event log of a 200k-item job (and a 1M-item one) through
// the real EventLog, with a simulated clock (Start tier, 1,000 RPM, answers of ~3 s, a few 429s,
// 529s and bad items), renders the report, and opens it in headless Chromium with the network cut
// off. Prints the log's and the page's size, the render time, and the time until the charts have
// drawn. The issue's bar: a 200k-item job's report under 2 MB, open in under 2 s. Nothing asserts.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, tempDir } from './lib.js';

const { EventLog, newRunId, readEventLog, reportData, renderReport } = await import(join(root, 'dist/report/index.js'));
const { writeFileSync } = await import('node:fs');

/** A made-up but shaped-like-life run of `items` at `rpm`, one sample a simulated second. */
function synthesise(env, items, rpm) {
  const startedAt = Date.UTC(2026, 11, 7, 1, 0, 0);
  const log = new EventLog(env, { id: newRunId(new Date(startedAt)), command: 'run', mode: 'realtime', startedAt, output: '/data/out.jsonl', input: 'items.jsonl', items, plan: { mode: 'realtime', reasons: ['synthetic'], realtime_seconds: (items / rpm) * 60, tokens: { input: items * 500, output_expected: items * 200 }, cost: { realtime: items * 0.0015, batch: items * 0.00075 }, classes: [{ model_class: 'claude-haiku-4-5', requests_per_minute: rpm, binding: `${rpm} requests/min` }] } });
  const stats = { total: items, skipped: 0, done: 0, succeeded: 0, errored: 0, retried: 0, rateLimited: 0, faults: 0, requestsSent: 0, inFlight: 0, startedAt, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, requestsPerMinute: 0, inputTokensPerMinute: 0, outputTokensPerMinute: 0, limits: { rpm, itpm: 2_000_000, otpm: 400_000 } };
  let usd = 0;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const perSecond = rpm / 60;
  let carry = 0;
  let n = 0;
  for (let second = 0; stats.done < items; second++) {
    const now = startedAt + second * 1000 + 500;
    carry += perSecond * (second < 10 ? (second + 1) / 10 : 1);
    const sends = Math.floor(carry);
    carry -= sends;
    for (let k = 0; k < sends && stats.done < items; k++) {
      n += 1;
      stats.requestsSent += 1;
      const roll = random();
      if (roll < 0.01) {
        stats.rateLimited += 1;
        stats.retried += 1;
        log.failed('rate_limit_error', `t-${n}`, 'Number of request tokens has exceeded your per-minute rate limit', false, now);
      } else if (roll < 0.015) {
        stats.faults += 1;
        stats.retried += 1;
        log.failed('overloaded_error', `t-${n}`, 'Overloaded', false, now);
      } else if (roll < 0.016) {
        stats.errored += 1;
        stats.done += 1;
        log.failed('invalid_request_error', `t-${n}`, 'messages: text content blocks must be non-empty', true, now);
      } else {
        stats.succeeded += 1;
        stats.done += 1;
        const input = 400 + Math.floor(random() * 200);
        const output = 100 + Math.floor(random() * 200);
        stats.inputTokens += input;
        stats.outputTokens += output;
        usd += (input * 1 + output * 5) / 1e6;
        log.answered(Math.round(2000 + random() * 2000 + (random() < 0.05 ? 8000 : 0)), now);
      }
    }
    stats.inFlight = Math.round(perSecond * 3 * (0.8 + random() * 0.4));
    log.sample(stats, now);
  }
  log.close(stats, { items, succeeded: stats.succeeded, errored: stats.errored }, startedAt + (stats.done / perSecond) * 1000 + 1000);
  return log.path;
}

const dir = tempDir();
const env = { CLAW_BATCH_STATE_DIR: join(dir, 'state') };
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('playwright-core is not installed (npm install): open times are not measured');
}
const context =
  chromium && existsSync(chromiumPath)
    ? await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'claw-batch-chromium-')), {
        executablePath: chromiumPath,
        headless: true,
        offline: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      })
    : undefined;
if (!context && chromium) console.log(`no Chromium at ${chromiumPath}: open times are not measured`);

console.log('items      rpm   run        log rows  log size   render  page size  open (load → charts drawn)');
for (const [items, rpm] of [[200_000, 1_000], [200_000, 10_000], [1_000_000, 1_000]]) {
  const logPath = synthesise(env, items, rpm);
  const t0 = performance.now();
  const contents = await readEventLog(logPath);
  const html = renderReport(reportData(contents));
  const renderMs = performance.now() - t0;
  const page = join(dir, `report-${items}-${rpm}.html`);
  writeFileSync(page, html);
  let open = 'n/a';
  if (context) {
    const tab = await context.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const url = pathToFileURL(page).href;
    await tab.route('**', (r) => (r.request().url() === url ? r.continue() : r.abort()));
    const started = performance.now();
    await tab.goto(url, { waitUntil: 'load' });
    await tab.waitForFunction(() => window.clawReport && Object.keys(window.clawReport.charts).length >= 6);
    open = `${Math.round(performance.now() - started)} ms${errors.length ? ` (errors: ${errors.join('; ')})` : ''}`;
    await tab.close();
  }
  const hours = contents.endT / 3600;
  console.log(
    `${String(items).padEnd(9)}  ${String(rpm).padEnd(5)} ${`${hours.toFixed(1)} h`.padEnd(9)}  ${String(contents.rows.length).padStart(8)}  ${`${(statSync(logPath).size / 1e6).toFixed(2)} MB`.padStart(8)}  ${`${Math.round(renderMs)} ms`.padStart(7)}  ${`${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB`.padStart(9)}  ${open}`,
  );
}
await context?.close();
rmSync(dir, { recursive: true, force: true });
