/**
 * The process entry: runs the CLI and is the one place that turns errors into exit codes and
 * one-line messages (no stack traces for errors a user can cause).
 */
import { CommanderError } from 'commander';
// The error classes alone: the SDK's index loads all of it (270 modules), which --help does not need.
import { APIConnectionError, APIError } from '@anthropic-ai/sdk/core/error';
import { buildProgram } from './cli.js';
import { processContext, type CommandContext } from './commands/context.js';
import { ClawError, ExitCode } from './errors.js';
import { shortened } from './quote.js';
import { redact } from './secrets.js';
import { muteSdkWarnings, routeSdkWarnings } from './sdk-warnings.js';

/** Maps any thrown value to an exit code, printing one line (or help) to stderr. */
export function reportError(err: unknown, ctx: CommandContext): number {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; with no command at all, commander has
    // printed the help already and only the exit code is left to give.
    if (err.exitCode === 0) return 0;
    if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') return ExitCode.usage;
    // commander quotes what was typed ('--x…'); a 100,000-character argument must not make a 100 KB line.
    const message = err.message.replace(/^error: /, '').replace(/'([^']{65,})'/g, (_, value: string) => `'${shortened(value)}'`);
    ctx.stderr.write(`claw-batch: ${redact(message)}\n`);
    return ExitCode.usage;
  }
  if (err instanceof ClawError) {
    ctx.stderr.write(`claw-batch: ${redact(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof APIConnectionError) {
    const url = ctx.env.ANTHROPIC_BASE_URL || 'https://api.anthropic.com';
    ctx.stderr.write(`claw-batch: cannot reach the API at ${url} (${redact(err.message)}); nothing is lost — rerun when it is reachable\n`);
    return ExitCode.stopped;
  }
  if (err instanceof APIError) {
    // An API failure outside the scheduler's retry loop (e.g. a batch call): stopped early.
    ctx.stderr.write(`claw-batch: the API answered ${err.status ?? 'no status'}: ${redact(err.message)}\n`);
    return ExitCode.stopped;
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.stderr.write(`claw-batch: internal error: ${redact(message)}\n`);
  if (ctx.env.CLAW_BATCH_DEBUG && err instanceof Error && err.stack) ctx.stderr.write(`${redact(err.stack)}\n`);
  return 70;
}

/**
 * A reader of stdout that has gone (`claw-batch run --help | head -2`, `list | head -1`) is not an
 * error worth a stack trace: what is left to print is dropped and the command ends quietly, as
 * other Unix tools do. (Results into a closed pipe also stop the run: src/output/result-writer.ts.)
 * Any other failure to write stdout (a full disk under `> file`) is one line and exit 3.
 */
function watchStdout(ctx: CommandContext): { failed(): boolean } {
  let failed = false;
  const stdout = ctx.stdout;
  if (watched.has(stdout)) return { failed: () => false };
  watched.add(stdout);
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || failed) return;
    failed = true;
    ctx.stderr.write(`claw-batch: cannot write to stdout: ${redact(err.message)}; what it shows is incomplete\n`);
    if (stdout === process.stdout) process.exitCode = ExitCode.stopped;
  });
  return { failed: () => failed };
}
const watched = new WeakSet<NodeJS.WritableStream>();

export async function main(argv: string[], ctx: CommandContext = processContext()): Promise<number> {
  let code: number = ExitCode.ok;
  routeSdkWarnings(ctx.stderr);
  // Before commander has parsed anything: a warning can come at any point of a command.
  if (argv.includes('--quiet') || argv.includes('--json')) muteSdkWarnings();
  const stdout = watchStdout(ctx);
  const program = buildProgram(ctx, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    code = reportError(err, ctx);
  }
  return code === ExitCode.ok && stdout.failed() ? ExitCode.stopped : code;
}
