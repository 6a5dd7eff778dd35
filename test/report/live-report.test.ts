/// <reference lib="dom" />
/**
 * The proxy's live report: its numbers go into an event log every second, `/_claw/status` names
 * the page, and `/_claw/report` is the same self-contained report, drawn from the log as it stands.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog, newRunId } from '../../src/report/index.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { launchBrowser, type BrowserFixture } from '../helpers/browser.js';
import { ask, naiveClient, useProxyFixture } from '../proxy/helpers.js';

const fx = useProxyFixture({ rpm: 600, latencyMs: 20 });

let browser: BrowserFixture;
let dir: string;
beforeAll(async () => {
  browser = await launchBrowser();
  dir = tempDir();
});
afterAll(async () => {
  await browser?.close();
  removeDir(dir);
});

describe('the proxy live report', () => {
  it('is linked from /_claw/status and draws what the proxy has done so far, offline but for the page', async () => {
    const events = new EventLog({ CLAW_BATCH_STATE_DIR: join(dir, 'state') }, { id: newRunId(), command: 'proxy', mode: 'proxy', output: null });
    const proxy = await fx.proxy({ events });
    const client = naiveClient(proxy);
    await Promise.all([1, 2, 3, 4].map((i) => client.messages.create(ask(`live ${i}`))));

    const status = (await (await fetch(`${proxy.url}/_claw/status`)).json()) as { report: string };
    expect(status.report).toBe('/_claw/report');

    const opened = await browser.open(`${proxy.url}${status.report}`);
    try {
      expect(await opened.page.textContent('#total-requests')).toBe('4');
      expect(await opened.page.textContent('#total-answers')).toBe('4');
      expect(await opened.page.locator('.chart canvas').count()).toBe(6);
      const requests = await opened.page.evaluate(() => {
        const r = (window as unknown as { clawReport: { charts: Record<string, { data: Array<Array<number | null>> }> } }).clawReport;
        return r.charts.requests!.data[1]!.reduce<number>((n, v) => n + (v ?? 0), 0);
      });
      // Per-minute rates of one-second points: 4 requests are 240 a minute in all.
      expect(requests).toBe(240);
      expect(opened.errors).toEqual([]);
      expect(opened.blocked).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
