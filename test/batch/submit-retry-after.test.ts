/**
 * A batch create answered 429 with a long `retry-after`: submit says what it waits for and how long
 * (as `run` does), stops at once on SIGTERM, and with `queue_overflow: fail` stops instead of
 * waiting longer than `queue_timeout_ms`. The simulator has no knob for a 429 on batch creation, so
 * a tiny HTTP server in the test gives it.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, removeDir, runCli, tempDir, writeItems } from '../helpers/cli.js';

describe('submit facing a long retry-after on batch creation', () => {
  let server: Server;
  let url: string;
  let creates = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.method === 'POST' && req.url?.startsWith('/v1/messages/batches')) creates += 1;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const envFor = (dir: string) => ({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: 'test-key', CLAW_BATCH_STATE_DIR: join(dir, 'state') });

  it('says it waits 1h00m for the retry-after, and SIGTERM stops the wait at once: exit 3', async () => {
    const dir = tempDir();
    try {
      const input = writeItems(dir, 3);
      const child = spawn(process.execPath, [BIN, 'submit', input, '--model', 'claude-haiku-4-5'], {
        env: cliEnv(envFor(dir)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      const announced = new Promise<void>((resolve) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          if (/waiting/.test(stderr)) resolve();
        });
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      await Promise.race([announced, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      expect(stderr).toMatch(
        /creating batch 1: the API refused it \(429 rate_limit_error\); waiting 1h00m \(the retry-after the API asked for\) before trying again/,
      );
      const killedAt = Date.now();
      child.kill('SIGTERM');
      expect(await closed).toBe(3);
      expect(Date.now() - killedAt).toBeLessThan(3000);
      expect(stderr).toMatch(/interrupted while submitting job job_\w+: 0 batches created; rerun the same command to finish submitting/);
      expect(stdout).toBe('');
    } finally {
      removeDir(dir);
    }
  }, 20_000);

  it('with queue_overflow: fail, stops instead of waiting past queue_timeout_ms: exit 3, nothing created', async () => {
    const dir = tempDir();
    try {
      const input = writeItems(dir, 3);
      writeFileSync(
        join(dir, 'claw-batch.config.yaml'),
        'providers:\n  anthropic:\n    rate_limit:\n      queue_overflow: fail\n      queue_timeout_ms: 5000\n',
      );
      creates = 0;
      const r = await runCli(['submit', input, '--model', 'claude-haiku-4-5'], { cwd: dir, env: envFor(dir) });
      expect(r.code).toBe(3);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(
        /job job_\w+: creating batch 1: the API is rate limiting it and asks to wait 1h00m, longer than queue_timeout_ms \(5000\) allows; stopping because queue_overflow is "fail"/,
      );
      expect(r.stderr).toMatch(/rerun the same command to finish submitting/);
      expect(r.stdout).toBe('');
      expect(creates).toBe(1);
    } finally {
      removeDir(dir);
    }
  }, 20_000);

  it('CLAW_BATCH_QUEUE_OVERFLOW=fail does the same (60 s by default)', async () => {
    const dir = tempDir();
    try {
      const input = writeItems(dir, 3);
      const r = await runCli(['submit', input, '--model', 'claude-haiku-4-5'], { env: { ...envFor(dir), CLAW_BATCH_QUEUE_OVERFLOW: 'fail' } });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/longer than queue_timeout_ms \(60000\) allows/);
    } finally {
      removeDir(dir);
    }
  }, 20_000);
});
