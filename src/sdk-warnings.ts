/**
 * The SDK warns with `console.warn` on every request for a deprecated model (or `thinking.type:
 * enabled` on some models): thousands of lines in a job of thousands of items, through the progress
 * display and into a `--json` stderr that must hold one object. Here each distinct warning is said
 * once, as one of ours, and not at all under `--quiet` or `--json`.
 */
import { redact } from './secrets.js';

let write: ((line: string) => void) | undefined;
let muted = false;
const said = new Set<string>();

/** Routes the SDK's warnings to `stderr`, each once. Called once, by the process entry. */
export function routeSdkWarnings(stderr: NodeJS.WritableStream): void {
  if (write) return;
  write = (line) => stderr.write(line);
  const original = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (!write) return original(...args);
    if (muted || said.has(text)) return;
    said.add(text);
    write(`claw-batch: warning (from ${warner(new Error().stack ?? '')}): ${redact(text.replace(/\n/g, ' '))}\n`);
  };
}

/** Who called console.warn, from the stack: the SDK, or the Redis client of the shared limit store. */
function warner(stack: string): string {
  if (/[\\/]ioredis[\\/]/.test(stack)) return 'the Redis client';
  if (/[\\/]@anthropic-ai[\\/]sdk[\\/]/.test(stack)) return 'the Anthropic SDK';
  return 'a library';
}

/** `--quiet` / `--json`: keep stderr to errors, or to the one JSON object. */
export function muteSdkWarnings(): void {
  muted = true;
}
