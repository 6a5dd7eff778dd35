/**
 * The proxy's event log and its live report: once a second the proxy's totals go into the run's
 * event log (as a run's numbers would: requests sent upstream, answers, 429s, tokens, in flight,
 * the limits in force), and `GET /_claw/report` draws the log as it stands, the same page
 * `claw-batch report` writes, reloading itself every few seconds.
 */
import type { ServerResponse } from 'node:http';
import type { EventLog } from '../report/event-log.js';
import { readEventLog } from '../report/read-event-log.js';
import { renderReport } from '../report/render-report.js';
import { reportData } from '../report/report-data.js';
import { emptyStats, type RunStats } from '../ui/stats.js';
import type { ProxyStatus } from './status.js';

export const REPORT_PATH = '/_claw/report';
/** The live page reloads itself this often. */
const REFRESH_SECONDS = 5;

/** The proxy's numbers in the shape of a run's (cumulative), for the event log. */
export function proxyRunStats(status: ProxyStatus, startedAt: number): RunStats {
  const t = status.totals;
  const stats = emptyStats(0);
  stats.startedAt = startedAt;
  stats.requestsSent = t.messages;
  stats.succeeded = t.succeeded;
  stats.errored = t.errors;
  stats.done = t.succeeded + t.errors;
  stats.rateLimited = t.upstreamRateLimited;
  // Every upstream 429 is retried by the proxy unless the client's wait ran out.
  stats.retried = t.upstreamRateLimited;
  stats.faults = t.upstreamCut + t.unreachable;
  stats.inputTokens = t.inputTokens;
  stats.outputTokens = t.outputTokens;
  stats.inFlight = status.inFlight;
  for (const c of status.classes) {
    for (const k of ['rpm', 'itpm', 'otpm'] as const) if (c.limits[k] !== undefined) stats.limits[k] = (stats.limits[k] ?? 0) + c.limits[k];
  }
  return stats;
}

export async function sendLiveReport(res: ServerResponse, events: EventLog): Promise<void> {
  events.flushNow();
  const html = renderReport(reportData(await readEventLog(events.path)), { refreshSeconds: REFRESH_SECONDS });
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(html);
}
