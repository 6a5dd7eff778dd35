/**
 * The proxy's stderr lines. Every line passes through redact() (no key ever reaches a log), and a
 * repeated notice (the same 529, the same unreachable upstream) prints at most once per interval:
 * a storm of 500 identical failures is one line and a count, not 500 lines.
 */
import { redact } from '../secrets.js';

export type Write = (line: string) => void;

export class ProxyLog {
  private readonly write: Write;
  private readonly everyMs: number;
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(write: Write, everyMs = 10_000) {
    this.write = write;
    this.everyMs = everyMs;
  }

  line(text: string): void {
    this.write(`claw-batch proxy: ${redact(text)}`);
  }

  /** Prints `text` unless a notice of the same `kind` printed within the interval. */
  notice(kind: string, text: string): void {
    const now = Date.now();
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.everyMs) {
      seen.suppressed += 1;
      return;
    }
    const more = seen?.suppressed ? ` (and ${seen.suppressed} more like it since the last such line)` : '';
    this.last.set(kind, { at: now, suppressed: 0 });
    this.line(`${text}${more}`);
  }
}
