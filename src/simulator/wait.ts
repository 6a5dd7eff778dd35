/** Waiting in a route while watching the client, so an answer stops the moment its client leaves. */
import type { ServerResponse } from 'node:http';

/**
 * Resolves true at epoch ms `at`, or false as soon as the client's connection closes. The timer is
 * unref'd: after close() a pending answer must not hold `claw-batch simulate` (or a test) open.
 */
export function waitUntil(res: ServerResponse, at: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  const ms = at - Date.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms).unref();
    res.once('close', onClose);
  });
}

/** Resolves when the client's connection closes (a hung or stalled answer waits for this). */
export function untilClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.closed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}
