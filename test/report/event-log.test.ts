/** The event log's bounds: per-second rows that coarsen as a run gets long, and errors as counts plus a few examples. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog, newRunId, readEventLog, reportData } from '../../src/report/index.js';
import { emptyStats } from '../../src/ui/stats.js';
import { removeDir, tempDir } from '../helpers/cli.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) removeDir(dir);
  dir = undefined;
});

describe('the event log', () => {
  it('keeps 1 s rows for the first hour and 10 s rows after it, every request counted once', async () => {
    dir = tempDir();
    const startedAt = Date.UTC(2026, 11, 7);
    const log = new EventLog({ CLAW_BATCH_STATE_DIR: join(dir, 'state') }, { id: newRunId(), command: 'run', mode: 'realtime', startedAt, output: null });
    const stats = emptyStats(100_000);
    const seconds = 2 * 3600;
    for (let s = 0; s < seconds; s++) {
      stats.requestsSent += 3;
      stats.succeeded += 3;
      stats.done += 3;
      stats.inFlight = s % 7;
      log.answered(1000 + (s % 10), startedAt + s * 1000 + 100);
      log.sample(stats, startedAt + s * 1000 + 500);
    }
    log.close(stats, { done: true }, startedAt + (seconds - 1) * 1000 + 900);
    const read = await readEventLog(log.path);
    expect(read.rows.filter((r) => r.s === 1)).toHaveLength(3600);
    expect(read.rows.filter((r) => r.s === 10)).toHaveLength(360);
    expect(read.rows.reduce((n, r) => n + r.req, 0)).toBe(3 * seconds);
    expect(Math.max(...read.rows.map((r) => r.fl))).toBe(6);
    expect(read.summary).toEqual({ done: true });
    // The page's points stay few however long the run: 7,200 s at 10 s points.
    const data = reportData(read);
    expect(data.series.t.length).toBeLessThanOrEqual(1200);
    expect(data.totals.requests).toBe(3 * seconds);
  });

  it('counts every failure by type but keeps only the first five examples of each', async () => {
    dir = tempDir();
    const startedAt = Date.now();
    const log = new EventLog({ CLAW_BATCH_STATE_DIR: join(dir, 'state') }, { id: newRunId(), command: 'run', mode: 'realtime', startedAt, output: null });
    for (let i = 0; i < 1000; i++) log.failed('overloaded_error', `item-${i}`, 'Overloaded', false, startedAt + i * 10);
    log.failed('invalid_request_error', 'bad-1', 'max_tokens: too large', true, startedAt + 10_000);
    log.close(emptyStats(0), {}, startedAt + 11_000);
    const data = reportData(await readEventLog(log.path));
    expect(data.errors).toEqual([
      { type: 'overloaded_error', retried: 1000, errored: 0, examples: [0, 1, 2, 3, 4].map((i) => ({ custom_id: `item-${i}`, message: 'Overloaded' })) },
      { type: 'invalid_request_error', retried: 0, errored: 1, examples: [{ custom_id: 'bad-1', message: 'max_tokens: too large' }] },
    ]);
  });
});
