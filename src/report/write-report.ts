/**
 * An event log to a report file: read, work out the page's numbers, render, write whole (a reader
 * never sees half a page).
 */
import { resolve } from 'node:path';
import { writeAtomic } from '../write-atomic.js';
import { readEventLog } from './read-event-log.js';
import { renderReport } from './render-report.js';
import { reportData } from './report-data.js';

export async function writeReport(logPath: string, to: string): Promise<{ path: string; bytes: number }> {
  const html = renderReport(reportData(await readEventLog(logPath)));
  const path = resolve(to);
  await writeAtomic(path, html);
  return { path, bytes: Buffer.byteLength(html) };
}
