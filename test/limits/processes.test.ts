/**
 * The point of sharing, with real processes: three node processes taking from one bucket at once,
 * through one SQLite file or one Redis, spend it exactly once between them: 300 of their 450 takes. (The children run the
 * built stores from dist/, built by `npm test`'s pretest.)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/cli.js';
import { useRedisServer } from '../helpers/redis-server.js';

const DIST = fileURLToPath(new URL('../../dist/limits/', import.meta.url));
const redis = useRedisServer();
const dir = tempDir('claw-batch-procs-');
afterAll(() => removeDir(dir));

/** 300 requests that refill at 0.01/s: nothing to speak of during the test. */
const SPEC = { requests: { perMinute: 0.6, capacitySeconds: 30_000, fullSeconds: 30_000 } };

/**
 * Starts a child that opens the store with `open`, says "ready", and on "go" makes `tries` takes;
 * `count` resolves with how many went.
 */
function child(open: string, tries: number): { ready: Promise<void>; go(): void; count: Promise<number> } {
  const code = `
    const store = await ${open};
    console.log('ready');
    await new Promise((r) => process.stdin.once('data', r));
    let ok = 0;
    for (let i = 0; i < ${tries}; i++) {
      const r = await store.take({ account: 'acct-procs', modelClass: 'claude-haiku-4-5' }, { requests: 1, inputTokens: 0, outputTokens: 0 }, ${JSON.stringify(SPEC)});
      if (r.ok) ok++;
    }
    await store.close();
    console.log(ok);`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) => p.stdout!.on('data', (d: Buffer) => (out += d.toString()).includes('ready') && resolve()));
  const count = new Promise<number>((resolve, reject) => {
    p.on('error', reject);
    p.on('exit', (c) => (c === 0 ? resolve(Number(out.replace('ready', '').trim())) : reject(new Error(`child exited ${c}`))));
  });
  return { ready, go: () => p.stdin!.end('go\n'), count };
}

/** Three children, released together once all have opened the store. */
async function together(open: string): Promise<number[]> {
  const children = [child(open, 150), child(open, 150), child(open, 150)];
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  return Promise.all(children.map((c) => c.count));
}

it('spends one SQLite bucket exactly once across three processes', async () => {
  const open = `import(${JSON.stringify(join(DIST, 'sqlite-store.js'))}).then((m) => new m.SqliteStore({ file: ${JSON.stringify(join(dir, 'limits.sqlite'))} }))`;
  const counts = await together(open);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
});

it('spends one Redis bucket exactly once across three processes', async () => {
  const open = `import(${JSON.stringify(join(DIST, 'redis-store.js'))}).then((m) => m.RedisStore.connect({ url: ${JSON.stringify(redis.server.url)} }))`;
  const counts = await together(open);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
});
