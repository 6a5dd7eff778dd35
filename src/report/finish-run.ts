/**
 * The end of a run's event log: the summary goes in, the report is written if one was asked for,
 * and the summary names where to look (the report, or the command that draws one).
 */
import type { RunStats } from '../ui/stats.js';
import type { EventLog } from './event-log.js';

export interface RunReportNote {
  /** The HTML file written, when `--report` asked for one. */
  report?: string;
  /** The event log. */
  events: string;
  /** For the summary's `report` line. */
  text: string;
}

export async function finishRunLog(
  events: EventLog | undefined,
  stats: RunStats,
  summary: Record<string, unknown>,
  reportTo: string | undefined,
  warn: (message: string) => void,
): Promise<RunReportNote | undefined> {
  if (!events) return undefined;
  events.close(stats, summary);
  const later = `claw-batch report ${events.id}`;
  if (reportTo) {
    try {
      // The page's renderer loads only when a report is asked for.
      const { writeReport } = await import('./write-report.js');
      const { path } = await writeReport(events.path, reportTo);
      return { report: path, events: events.path, text: path };
    } catch (err) {
      // The results are safe; a report that could not be written is a warning, not a failed run.
      warn(`could not write the report ${reportTo} (${err instanceof Error ? err.message : String(err)}); ${later} draws it later`);
    }
  }
  return { events: events.path, text: `${later}  (event log ${events.path})` };
}
