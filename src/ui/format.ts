/** Number and duration formats shared by the progress display and the summary. */

const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1234567` → `1,234,567`. A fixed locale, so logs and tests read the same everywhere. */
export function formatCount(n: number): string {
  return counts.format(Math.round(n));
}

/** Short form for tight spaces: `950`, `45.2k`, `1.2M`. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n));
  if (abs < 1e6) return `${trimZero((n / 1e3).toFixed(abs < 1e4 ? 1 : 0))}k`;
  return `${trimZero((n / 1e6).toFixed(abs < 1e7 ? 1 : 0))}M`;
}

function trimZero(s: string): string {
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/** `0.4s`, `42s`, `6m20s`, `2h05m`: under 10 s with a decimal, so a quick run does not read `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 60) return `${totalMinutes}m${pad2(totalSeconds % 60)}s`;
  return `${Math.floor(totalMinutes / 60)}h${pad2(totalMinutes % 60)}m`;
}

/** Whole seconds for an ETA: `7s`, `42s`, `6m20s`, `2h05m`. */
export function formatEta(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  return s < 60 ? `${s}s` : formatDuration(s * 1000);
}

/** Local wall-clock time `12:03:10`, for log lines. */
export function formatClock(at: Date): string {
  return `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `1 item`, `2 items`, `1,200 requests`. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}
