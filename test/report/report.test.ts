/// <reference lib="dom" />
/**
 * The run report, end to end: a small job against the simulator through the CLI leaves an event
 * log; `claw-batch report` (and `run --report`) turn it into one HTML file; a real headless
 * Chromium opens it with the network cut off and the charts draw the run's own numbers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeItems } from '../helpers/cli.js';
import { launchBrowser, type BrowserFixture } from '../helpers/browser.js';
import { useSimulator } from '../helpers/simulator.js';
import { waitFor } from '../helpers/run-process.js';

const fx = useSimulator({ latencyMs: 40, rpm: 600, rate500: 0.08, rate529: 0.08, batchMs: 3000 }, {});

let browser: BrowserFixture;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface Row {
  kind?: string;
  t: number;
  req: number;
  fl: number;
  rl: number;
  errs?: Record<string, number>;
}

function readLog(stateDir: string): Row[] {
  const dir = join(stateDir, 'runs');
  const [name] = readdirSync(dir).filter((n) => n.endsWith('.events.jsonl'));
  return readFileSync(join(dir, name!), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
}

describe('claw-batch report', () => {
  it('draws a run from its results file in Chromium offline, with the peaks and totals of its event log', async () => {
    const dir = fx.newDir();
    const env = { ...fx.env(), CLAW_BATCH_STATE_DIR: join(dir, 'state') };
    const items = writeItems(dir, 12);
    const out = join(dir, 'out.jsonl');
    const ran = await runCli(['run', items, '-o', out, '--realtime', '--model', 'claude-haiku-4-5', '--rpm', '300', '--json'], { env, cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    const summary = JSON.parse(ran.stderr.trim().split('\n').pop()!) as { requests: number; faults: number; events_log: string; report: null };
    // The summary names the event log, and the command that draws it.
    expect(summary.events_log).toMatch(/runs\/run_\d{8}_\d{6}_[0-9a-f]{4}\.events\.jsonl$/);

    const made = await runCli(['report', out], { env, cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    const html = join(dir, 'out.report.html');
    expect(made.stdout.trim()).toBe(html);

    const log = readLog(join(dir, 'state'));
    const rows = log.filter((r) => r.kind === undefined);
    const sentInLog = rows.reduce((n, r) => n + r.req, 0);
    expect(sentInLog).toBe(summary.requests);
    // Points are one second wide for a short run, so the peak rate is the busiest second's, per minute.
    const peakRpm = Math.max(...rows.map((r) => r.req)) * 60;
    const peakInFlight = Math.max(...rows.map((r) => r.fl));

    const opened = await browser.open(html);
    try {
      const { page } = opened;
      expect(await page.textContent('#total-requests')).toBe(summary.requests.toLocaleString('en-US'));
      expect(await page.textContent('#peak-rpm')).toBe(peakRpm.toLocaleString('en-US'));
      expect(await page.textContent('#peak-inflight')).toBe(String(peakInFlight));
      expect(await page.textContent('#total-faults')).toBe(String(summary.faults));
      // Every chart drew on its canvas, from the same numbers.
      const drawn = await page.evaluate(() => {
        const report = (window as unknown as { clawReport: { charts: Record<string, { data: number[][]; root: HTMLElement }> } }).clawReport;
        const out: Record<string, { painted: number; firstSeries: number; max: number }> = {};
        for (const [key, chart] of Object.entries(report.charts)) {
          const canvas = chart.root.querySelector('canvas')!;
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          // Pixels in the series' colours (blue, orange, green, red), not just axes and grid. Any of
          // them: lines that coincide (answers over requests sent, items done over cost) hide the first.
          let firstSeries = 0;
          const palette = [[0x2f, 0x6f, 0xdf], [0xe0, 0x80, 0x2a], [0x2a, 0x9d, 0x5b], [0xc0, 0x39, 0x2b]];
          for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3]! > 0) painted += 1;
            if (pixels[i + 3]! < 200) continue;
            if (palette.some(([r, g, b]) => Math.abs(pixels[i]! - r!) + Math.abs(pixels[i + 1]! - g!) + Math.abs(pixels[i + 2]! - b!) < 40)) firstSeries += 1;
          }
          out[key] = { painted, firstSeries, max: Math.max(...chart.data[1]!.map((v) => v ?? 0)) };
        }
        return out;
      });
      expect(Object.keys(drawn).sort()).toEqual(['cost', 'inflight', 'latency', 'requests', 'retries', 'tokens']);
      for (const [key, d] of Object.entries(drawn)) expect(d.painted, `chart ${key} drew nothing`).toBeGreaterThan(500);
      for (const key of ['requests', 'tokens', 'inflight', 'latency', 'cost']) expect(drawn[key]!.firstSeries, `chart ${key} drew no line`).toBeGreaterThan(20);
      expect(drawn.requests!.max).toBe(peakRpm);
      expect(drawn.inflight!.max).toBe(peakInFlight);
      // Faults at 16%: the errors table names their types, with an example custom_id.
      if (summary.faults > 0) expect(await page.textContent('#errors')).toMatch(/(api_error|overloaded_error)[\s\S]*t-\d+/);
      expect(opened.errors).toEqual([]);
      expect(opened.blocked).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('writes the report named by run --report and says so in the summary', async () => {
    const dir = fx.newDir();
    const env = fx.env();
    const items = writeItems(dir, 5);
    const ran = await runCli(['run', items, '-o', join(dir, 'out.jsonl'), '--realtime', '--model', 'claude-haiku-4-5', '--report', 'run.html'], { env, cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(new RegExp(`report\\s+${join(dir, 'run.html')}`));
    const opened = await browser.open(join(dir, 'run.html'));
    try {
      expect(await opened.page.textContent('#total-answers')).toBe('5');
      expect(await opened.page.locator('.chart canvas').count()).toBe(6);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('draws a Batches API job from submit to poll --wait --report, its batches processing over time', async () => {
    const dir = fx.newDir();
    const env = { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.3' };
    const items = writeItems(dir, 8);
    // The batch processes until the poller has seen it processing (a fixed batchMs raced a slow start).
    fx.sim.setOptions({ batchMs: 3_600_000 });
    const submitted = await runCli(['submit', items, '--model', 'claude-haiku-4-5', '--quiet'], { env, cwd: dir });
    fx.sim.setOptions({ batchMs: 3000 });
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = submitted.stdout.trim();
    const calls = fx.sim.counters().batchRequests;
    const polling = runCli(['poll', job, '--wait', '-o', 'out.jsonl', '--report', 'job.html'], { env, cwd: dir });
    // Ended 2 s after the poller first retrieved it: the report's points are a second wide and show
    // the last state in each, so the batch is processing through at least one whole point.
    await waitFor(() => fx.sim.counters().batchRequests > calls);
    await new Promise((r) => setTimeout(r, 2000));
    expect(fx.sim.endBatches()).toBe(1);
    const polled = await polling;
    expect(polled.code, polled.stderr).toBe(0);
    expect(polled.stderr).toContain(`report: ${join(dir, 'job.html')}`);
    const opened = await browser.open(join(dir, 'job.html'));
    try {
      expect(await opened.page.textContent('#done')).toBe('8 of 8');
      const processing = await opened.page.evaluate(() => {
        const r = (window as unknown as { clawReport: { charts: Record<string, { data: Array<Array<number | null>> }> } }).clawReport;
        return r.charts.batch!.data[1]!;
      });
      // Processing at the first poll, none once ended.
      expect(Math.max(...processing.map((v) => v ?? 0))).toBe(8);
      expect(processing[processing.length - 1]).toBe(0);
      expect(await opened.page.textContent('body')).toContain(`job ${job}: 8 items submitted`);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('refuses a results file no run wrote, with exit 2 and one line', async () => {
    const dir = fx.newDir();
    const r = await runCli(['report', join(dir, 'nothing.jsonl')], { env: fx.env(), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no run .* wrote its results to .*nothing\.jsonl/);
  });
});
