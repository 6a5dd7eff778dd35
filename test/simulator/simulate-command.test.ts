/**
 * `claw-batch simulate` as a user runs it (needs `npx tsc -p .` first, as `npm test` does):
 * it says where it listens, serves the real SDK, and exits 0 on SIGINT.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { PassThrough } from 'node:stream';
import { parseClassLimits, parseReplyTokens, simulate } from '../../src/commands/simulate.js';
import { InvalidOptionError, UsageError } from '../../src/errors.js';
import { params } from './sim-client.js';

const BIN = fileURLToPath(new URL('../../bin/claw-batch.js', import.meta.url));

function spawnCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

async function listeningUrl(cli: ReturnType<typeof spawnCli>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line; stderr: ${cli.stderr()}`)), 10_000);
    cli.child.stderr.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(cli.stderr());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    cli.exited.then((code) => reject(new Error(`exited ${code} before listening; stderr: ${cli.stderr()}`)));
  });
}

describe('claw-batch simulate', () => {
  it('serves until SIGINT, then exits 0', async () => {
    const cli = spawnCli(['simulate', '--port', '0', '--rpm', '60']);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line; stderr: ${cli.stderr()}`)), 10_000);
        cli.child.stderr.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(cli.stderr());
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        cli.exited.then((code) => reject(new Error(`exited ${code} before listening; stderr: ${cli.stderr()}`)));
      });
      expect(cli.stderr()).toMatch(/60 requests\/min/);
      expect(cli.stderr()).toContain(`ANTHROPIC_BASE_URL=${url}`);

      const client = new Anthropic({ apiKey: 'sim', baseURL: url, maxRetries: 0 });
      const reply = await client.messages.create(params('hello from the CLI test'));
      expect(reply.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('hello from the CLI test') });
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toMatch(/stopped \(SIGINT\): 1 messages requests, 1 succeeded/);
  });

  it('refuses a port in use with a one-line usage error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const ctx = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: process.cwd() };
    try {
      const failure = simulate({ port }, ctx).catch((err: unknown) => err);
      const err = (await failure) as UsageError;
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`port ${port} is in use; pick another with --port`);
    } finally {
      blocker.close();
    }
  });

  it('takes the tier, per-class limits and reply lengths from its flags', async () => {
    const cli = spawnCli(['simulate', '--port', '0', '--tier', 'start', '--class-limit', 'claude-haiku-4-5:rpm=120,otpm=90000', '--reply-tokens', '30-40']);
    try {
      const url = await listeningUrl(cli);
      expect(cli.stderr()).toMatch(/tier start per model class/);
      expect(cli.stderr()).toMatch(/claude-haiku-4-5: 120 requests\/min, 90000 output tokens\/min/);
      const client = new Anthropic({ apiKey: 'sim', baseURL: url, maxRetries: 0 });
      const { data, response } = await client.messages.create(params('flags', 100)).withResponse();
      expect(data.usage.output_tokens).toBeGreaterThanOrEqual(30);
      expect(data.usage.output_tokens).toBeLessThanOrEqual(40);
      expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('120');
      expect(response.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('2000000');
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
  });

  it('puts keys in organizations from --organizations FILE, and refuses a bad file with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'claw-sim-'));
    try {
      const file = join(dir, 'orgs.json');
      writeFileSync(file, JSON.stringify([{ id: 'org-team', keys: ['team-1', 'team-2'], rpm: 120, workspaces: [{ id: 'wrkspc_x', keys: ['ws-1'], rpm: 30 }] }]));
      const cli = spawnCli(['simulate', '--port', '0', '--organizations', file, '--unseen-rpm', '1']);
      try {
        const url = await listeningUrl(cli);
        expect(cli.stderr()).toMatch(/organizations: org-team \(2 keys, 1 workspace\)/);
        expect(cli.stderr()).toMatch(/another tool of the organization spends 1 requests\/min unseen/);
        const headersOf = async (apiKey: string) => (await new Anthropic({ apiKey, baseURL: url, maxRetries: 0 }).messages.create(params('org')).withResponse()).response.headers;
        const team = await headersOf('team-2');
        expect(team.get('anthropic-organization-id')).toBe('org-team');
        expect(team.get('anthropic-ratelimit-requests-limit')).toBe('120');
        const ws = await headersOf('ws-1');
        expect(ws.get('anthropic-workspace-id')).toBe('wrkspc_x');
        expect(ws.get('anthropic-ratelimit-requests-limit')).toBe('30');
        expect((await headersOf('someone-else')).get('anthropic-organization-id')).not.toBe('org-team');
      } finally {
        cli.child.kill('SIGINT');
      }
      expect(await cli.exited).toBe(0);

      writeFileSync(file, JSON.stringify([{ id: 'a', keys: ['k'] }, { id: 'b', keys: ['k'] }]));
      const twice = spawnCli(['simulate', '--port', '0', '--organizations', file]);
      expect(await twice.exited).toBe(2);
      expect(twice.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^claw-batch: --organizations: .*listed twice/)]);
      writeFileSync(file, '[{"id": ');
      const broken = spawnCli(['simulate', '--port', '0', '--organizations', file]);
      expect(await broken.exited).toBe(2);
      expect(broken.stderr()).toContain(`--organizations ${file}: not valid JSON`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 naming the flag and the value for a bad --class-limit', async () => {
    const cli = spawnCli(['simulate', '--port', '0', '--class-limit', 'claude-haiku-4-5:rpm=fast']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/--class-limit.*claude-haiku-4-5:rpm=fast/);
  });
});

describe('simulate flag parsing', () => {
  it('reads repeated --class-limit values, the later winning per limit', () => {
    expect(parseClassLimits(['claude-haiku-4-5:rpm=1000,otpm=90000', 'claude-opus-4:itpm=2000000', 'claude-haiku-4-5:rpm=50'])).toEqual({
      'claude-haiku-4-5': { rpm: 50, otpm: 90_000 },
      'claude-opus-4': { itpm: 2_000_000 },
    });
    expect(parseClassLimits(undefined)).toBeUndefined();
  });

  it.each(['claude-haiku-4-5', 'claude-haiku-4-5:', 'claude-haiku-4-5:tpm=5', 'claude-haiku-4-5:rpm=0', 'claude-haiku-4-5:rpm=1e3', ':rpm=5'])(
    'refuses --class-limit %s, naming the flag and value',
    (spec) => {
      let caught: unknown;
      try {
        parseClassLimits([spec]);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as Error).message).toContain('--class-limit');
      expect((caught as Error).message).toContain(`\`${spec}\``);
    },
  );

  it('reads --reply-tokens N and MIN-MAX, refusing anything else', () => {
    expect(parseReplyTokens('300')).toBe(300);
    expect(parseReplyTokens('200-800')).toEqual({ min: 200, max: 800 });
    for (const bad of ['0', '800-200', 'many', '1.5', '-5']) {
      expect(() => parseReplyTokens(bad)).toThrow(new RegExp(`--reply-tokens.*\`${bad}\``));
    }
  });
});
