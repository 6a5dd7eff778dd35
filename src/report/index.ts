/**
 * The run report: every run keeps an event log in the state dir (event-log.ts); `claw-batch report`
 * (or `run --report FILE`) turns one into a self-contained HTML page (render-report.ts).
 */
export { EventLog, newRunId, eventLogPath, runsDir, type AttemptEvents, type EventLogHeader, type EventRow } from './event-log.js';
export { readEventLog, type EventLogContents } from './read-event-log.js';
export { reportData, type ReportData } from './report-data.js';
export { renderReport } from './render-report.js';
export { findEventLog } from './find-log.js';
export { writeReport } from './write-report.js';
export { finishRunLog, type RunReportNote } from './finish-run.js';
