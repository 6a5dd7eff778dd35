/**
 * Ctrl-C / SIGTERM: the first signal asks the command to stop taking new work and finish what is
 * in flight (the command then exits 3 and a rerun resumes); a second signal exits at once. Results
 * are appended as whole lines, so even the immediate exit loses nothing already written.
 */
import { ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';

export interface InterruptHandle {
  signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(ctx: CommandContext, what = 'finishing in-flight requests'): InterruptHandle {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      ctx.stderr.write(`claw-batch: ${sig} again: exiting now; rerun the same command to resume\n`);
      process.exit(ExitCode.stopped);
    }
    ctx.stderr.write(`claw-batch: ${sig}: ${what} (press Ctrl-C again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
