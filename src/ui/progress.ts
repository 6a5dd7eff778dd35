/**
 * Progress on stderr while a run works: a live bar on a terminal, or a plain status line every
 * `intervalMs` when stderr is a file or pipe (cron, CI), where a bar's redraws would be noise.
 * Everything printed passes through redact(): an API key must never reach a terminal or log.
 */
import { parsePositiveNumber } from '../options.js';
import { redact } from '../secrets.js';
import { colors, useColor } from './color.js';
import { formatClock } from './format.js';
import type { RunStats } from './stats.js';
import { StatusBar } from './status-bar.js';
import { barStatus, plainStatus } from './status-line.js';

export interface ProgressOptions {
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Errors only: no bar, no status lines, no info or warnings. Default false. */
  quiet?: boolean;
  /** Names the run in the status line, e.g. `realtime` or `batch`. */
  label?: string;
  /**
   * Non-TTY: ms between status lines. Default 10_000; the env var CLAW_BATCH_PROGRESS_INTERVAL_MS
   * overrides it (so a CLI test or a chatty log can shorten it).
   */
  intervalMs?: number;
}

export interface Progress {
  /** Cheap; may be called per item. Draws at most ~10 times/s (TTY) or every intervalMs (plain). */
  update(stats: RunStats): void;
  /** A line above the bar; suppressed by quiet. */
  info(message: string): void;
  /** Suppressed by quiet. */
  warn(message: string): void;
  /** Always printed. */
  error(message: string): void;
  /** Stops the bar or timer and prints the final status; idempotent. */
  stop(): void;
}

const DEFAULT_INTERVAL_MS = 10_000;

export function createProgress(options: ProgressOptions): Progress {
  const { stderr, env, quiet = false, label } = options;
  const c = colors(useColor(stderr, env));
  const tty = stderr.isTTY === true;
  const intervalMs =
    parsePositiveNumber('CLAW_BATCH_PROGRESS_INTERVAL_MS', env.CLAW_BATCH_PROGRESS_INTERVAL_MS || undefined) ??
    options.intervalMs ??
    DEFAULT_INTERVAL_MS;

  let latest: RunStats | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const bar = tty && !quiet ? new StatusBar(stderr, () => redact(barStatus(latest!, label, Date.now(), stderr.columns || 80))) : undefined;

  const statusLine = () => {
    if (latest) stderr.write(`${redact(plainStatus(latest, label, Date.now()))}\n`);
  };
  const print = (text: string) => {
    // Plain logs carry the clock like the status lines do; a terminal user sees the live bar instead.
    const line = `${redact(tty ? text : `[${formatClock(new Date())}] ${text}`)}\n`;
    if (bar) bar.printAbove(stderr, line);
    else stderr.write(line);
  };

  return {
    update(stats) {
      if (stopped || quiet) return;
      latest = stats;
      if (bar) {
        bar.update(stats.done, stats.total);
      } else if (!timer) {
        timer = setInterval(statusLine, intervalMs);
        // A forgotten stop() must not keep the process alive.
        timer.unref();
      }
    },
    info(message) {
      if (!quiet) print(message);
    },
    warn(message) {
      if (!quiet) print(`${c.yellow('warning:')} ${message}`);
    },
    error(message) {
      print(`${c.red('error:')} ${message}`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (bar) bar.stop();
      if (timer) {
        clearInterval(timer);
        statusLine();
      }
    },
  };
}
