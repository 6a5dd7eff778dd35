/**
 * `claw-batch report [JOB|OUT.jsonl] [-o report.html]`: draw a run from its event log as one
 * self-contained HTML file. The argument names the run (a run or job id), or the results file a run
 * wrote (its newest run); none: the newest run. Default file: beside OUT.jsonl as OUT.report.html,
 * else `<id>.report.html` in the current directory. Prints the report's path on stdout.
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandContext } from './context.js';
import { ExitCode } from '../errors.js';
import { findEventLog } from '../report/find-log.js';
import { writeReport } from '../report/write-report.js';

export interface ReportOptions {
  /** A run or job id, or a results file; default the newest run. */
  target?: string;
  /** `-o`: where the HTML goes. */
  output?: string;
  quiet?: boolean;
}

export async function report(options: ReportOptions, ctx: CommandContext): Promise<number> {
  const log = await findEventLog(ctx.env, ctx.cwd, options.target);
  const to = resolve(ctx.cwd, options.output ?? defaultReportPath(options.target, log, ctx.cwd));
  const { path, bytes } = await writeReport(log, to);
  if (!options.quiet) ctx.stderr.write(`report: ${path} (${Math.ceil(bytes / 1024)} KB, from ${log})\n`);
  ctx.stdout.write(`${path}\n`);
  return ExitCode.ok;
}

/** `out.jsonl` → `out.report.html` beside it; an id → `<id>.report.html` here. */
export function defaultReportPath(target: string | undefined, logPath: string, cwd: string): string {
  if (target !== undefined && !/^(run|job)_/.test(target)) {
    const out = resolve(cwd, target);
    return join(dirname(out), `${basename(out).replace(/\.jsonl?$/i, '')}.report.html`);
  }
  return join(cwd, basename(logPath).replace(/\.events\.jsonl$/, '.report.html'));
}
