/**
 * SIGINT/SIGTERM while a batch job is being submitted or waited on. The first signal aborts the
 * wait (the batches keep running on the API; a rerun re-attaches); the handler is then removed, so
 * a second signal ends the process at once the default way.
 */
export interface StopSignal {
  signal: AbortSignal;
  dispose(): void;
}

/** `onStop` is told which signal arrived, e.g. to say that the batches keep running. */
export function stopOnSignals(onStop?: (signal: NodeJS.Signals) => void): StopSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    dispose();
    onStop?.(sig);
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: controller.signal, dispose };
}
