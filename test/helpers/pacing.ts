/** What the pacing tests check of a run: every item once with its own answer, and the pace at the simulator. */
import { expect } from 'vitest';
import { replyText, type SimulatorCounters } from '../../src/simulator/index.js';
import { countById, readResults, textOf } from './cli.js';

export function expectEveryItemOnceWithItsOwnAnswer(out: string, n: number, prompt: (i: number) => string, maxTokens = 64): void {
  const lines = readResults(out);
  const counts = countById(lines);
  expect(counts.size).toBe(n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  for (const line of lines) {
    expect(line.result.type).toBe('succeeded');
    const i = Number(line.custom_id.slice(2));
    expect(textOf(line)).toBe(
      replyText({ model: 'claude-haiku-4-5', max_tokens: maxTokens, messages: [{ role: 'user', content: prompt(i) }] }),
    );
  }
}

/**
 * Requests per minute the simulator saw, after the opening burst its full bucket allows: the time
 * from the first request to the last covers all but the bucket's worth of them.
 */
export function arrivalRate(c: SimulatorCounters, bucket: number): number {
  const span = (c.lastRequestAt! - c.firstRequestAt!) / 60_000;
  return (c.requests - bucket) / span;
}
