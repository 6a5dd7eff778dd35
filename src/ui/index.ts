/**
 * The terminal UI: progress while a run works, the summary when it ends, and the colour decision.
 * Everything goes to stderr; stdout is for results only.
 */
export { createProgress, type Progress, type ProgressOptions } from './progress.js';
export { formatSummary, summaryObject, achievedRequestsPerMinute, writeSummary, type CostLine, type CostMeter } from './summary.js';
export { useColor, colors } from './color.js';
export { formatCount, formatCompact, formatDuration, formatEta, formatClock, plural } from './format.js';
export { emptyStats, type RunStats, type RateLimits } from './stats.js';
