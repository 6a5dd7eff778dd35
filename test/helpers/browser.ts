/**
 * A real headless Chromium (the system's: /usr/bin/chromium, or $CHROMIUM_PATH) driven by
 * playwright-core, for pages claw-batch writes. Every request the page makes that is not the file
 * itself is aborted and recorded, so a test proves the page works offline; console errors and
 * uncaught exceptions are recorded too.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** URLs the page tried to fetch (all were aborted). */
  blocked: string[];
  close(): Promise<void>;
}

export interface BrowserFixture {
  /** Opens a local file (or one http:// URL, e.g. a local server's page) with every other request blocked; waits for the load event. */
  open(pathOrUrl: string): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserFixture> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'claw-batch-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    // Offline would refuse the loopback page of a local server too; the route below blocks the rest.
    offline: false,
    viewport: { width: 1200, height: 900 },
  });
  return {
    async open(pathOrUrl) {
      const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : pathToFileURL(pathOrUrl).href;
      const page = await context.newPage();
      const errors: string[] = [];
      const blocked: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
      await page.route('**', (route) => {
        const target = route.request().url();
        if (target === url) return route.continue();
        blocked.push(target);
        return route.abort('internetdisconnected');
      });
      await page.goto(url, { waitUntil: 'load' });
      return { page, errors, blocked, close: () => page.close() };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
