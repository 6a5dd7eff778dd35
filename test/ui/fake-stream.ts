/** A stand-in for stderr that records what was written. */
export interface FakeStream {
  isTTY?: boolean;
  columns?: number;
  chunks: string[];
  text(): string;
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean;
}

export function fakeStream(opts: { isTTY?: boolean; columns?: number } = {}): FakeStream & NodeJS.WritableStream {
  const chunks: string[] = [];
  const stream: FakeStream = {
    ...opts,
    chunks,
    text: () => chunks.join(''),
    write(chunk, ...rest) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    },
  };
  return stream as FakeStream & NodeJS.WritableStream;
}

/** Visible lines of a non-TTY log. */
export function logLines(stream: FakeStream): string[] {
  return stream.text().split('\n').filter(Boolean);
}
