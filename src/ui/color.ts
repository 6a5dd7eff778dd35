/**
 * Whether to colour stderr, and a chalk instance that obeys that decision. chalk 5 detects colour
 * support from process.stderr and ignores NO_COLOR; we decide from the stream and env we are given
 * so a test (or a command with an injected context) gets the same answer as the real process.
 */
import { Chalk, type ChalkInstance } from 'chalk';

/**
 * NO_COLOR (any non-empty value, https://no-color.org) or FORCE_COLOR=0 turn colour off and win over
 * everything: a user who set them in their profile meant it. FORCE_COLOR=1/2/3 (or `true`) turns it on
 * even when stderr is not a terminal. Otherwise: colour only on a TTY whose TERM is not `dumb`.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (env.NO_COLOR) return false;
  if (force === '0' || force === 'false') return false;
  if (force === '1' || force === '2' || force === '3' || force === 'true') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** A chalk instance with basic 16 colours when enabled, none otherwise. */
export function colors(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}
