/**
 * Ctrl-C / SIGTERM. The first signal asks the command to stop taking new work (in-flight requests
 * finish and are written; a batch wait ends while the batches keep running on the API); the
 * command then exits 3 and a rerun resumes. A second signal exits at once: results are appended as
 * whole lines and manifests are written atomically, so even that loses nothing already written.
 */
import { ExitCode } from './errors.js';

export interface StopSignal {
  signal: AbortSignal;
  dispose(): void;
}

/** `onFirst` is told which signal arrived, to say what happens now. */
export function onStopSignals(stderr: NodeJS.WritableStream, onFirst: (signal: NodeJS.Signals) => void): StopSignal {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      stderr.write(`claw-batch: ${sig} again: exiting now; rerun the same command to resume\n`);
      process.exit(ExitCode.stopped);
    }
    onFirst(sig);
    // The reason names the signal, for the line that tells what stopping means now.
    controller.abort(sig);
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

/** Resolves with the first SIGINT or SIGTERM (for servers that run until stopped: proxy, simulate). */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(s);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
