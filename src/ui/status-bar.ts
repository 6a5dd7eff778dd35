/**
 * The TTY progress bar: a cli-progress SingleBar redrawn at most 10 times a second on one line of
 * stderr, which log lines can be printed above without corrupting it.
 */
import { clearLine, cursorTo } from 'node:readline';
import cliProgress from 'cli-progress';

type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * cli-progress's terminal, minus cursor save/restore: stop() restores the position saved at start(),
 * which after lines were printed above the bar is a screen row that has since scrolled — the final
 * bar and everything after it would overwrite those lines. Line wrapping is left alone too, so long
 * log lines still wrap.
 */
class BarTerminal {
  constructor(private readonly stream: TtyStream) {}
  cursorSave(): void {}
  cursorRestore(): void {}
  cursor(enabled: boolean): void {
    this.stream.write(enabled ? '\x1B[?25h' : '\x1B[?25l');
  }
  lineWrapping(): void {}
  cursorTo(x: number | null): void {
    cursorTo(this.stream, x ?? 0);
  }
  cursorRelative(): void {}
  cursorRelativeReset(): void {}
  clearRight(): void {
    clearLine(this.stream, 1);
  }
  clearLine(): void {
    clearLine(this.stream, 0);
  }
  clearBottom(): void {}
  newline(): void {
    this.stream.write('\n');
  }
  write(s: string): void {
    // One column short of the width: a line that fills the last column makes some terminals wrap.
    this.stream.write(Array.from(s).slice(0, this.getWidth() - 1).join(''));
  }
  isTTY(): boolean {
    return true;
  }
  getWidth(): number {
    return this.stream.columns || 80;
  }
}

export class StatusBar {
  private readonly bar: cliProgress.SingleBar;
  private readonly terminal: BarTerminal;
  private running = false;

  /** `render` returns the whole line; it is called at draw time, so update() stays cheap. */
  constructor(stream: TtyStream, render: () => string) {
    this.terminal = new BarTerminal(stream);
    const options = {
      stream,
      terminal: this.terminal,
      format: () => render(),
      fps: 10,
      hideCursor: false,
      linewrap: null,
      gracefulExit: false,
    } as unknown as cliProgress.Options;
    this.bar = new UnrefBar(options);
  }

  get active(): boolean {
    return this.running;
  }

  update(done: number, total: number): void {
    if (!this.running) {
      this.bar.start(total, done);
      this.running = true;
      return;
    }
    if (total !== this.bar.getTotal()) this.bar.setTotal(total);
    this.bar.update(done);
  }

  /** Clears the bar's line, prints `text` (ending in '\n') in its place, and draws the bar below it. */
  printAbove(stream: NodeJS.WritableStream, text: string): void {
    if (!this.running) {
      stream.write(text);
      return;
    }
    this.terminal.cursorTo(0);
    this.terminal.clearLine();
    stream.write(text);
    (this.bar as UnrefBar).redraw();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.bar.stop();
  }
}

/**
 * SingleBar re-arms a redraw timer after every render; unref it so a command that forgets stop() on
 * some error path still lets the process exit instead of hanging on the bar.
 */
class UnrefBar extends cliProgress.SingleBar {
  override render(): void {
    super.render();
    (this as unknown as { timer: NodeJS.Timeout | null }).timer?.unref();
  }

  /** Draws even if the text did not change (the line was just cleared). */
  redraw(): void {
    (this as unknown as { lastDrawnString: string | null }).lastDrawnString = null;
    this.render();
  }
}
