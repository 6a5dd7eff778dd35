/** Running the real CLI (dist/, via bin/) against a simulator, with a private state dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { ResultLine } from '../../src/types.js';
import { main } from '../../src/main.js';
import { Readable, Writable } from 'node:stream';

function collector(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const BIN = fileURLToPath(new URL('../../bin/claw-batch.js', import.meta.url));

export interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  sim: Simulator;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `claw-batch args...` to the end (bounded by `timeoutMs`). */
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Cli>;
  /** Starts `claw-batch args...` and returns the child plus a promise of its end. */
  spawnCli(args: string[], extraEnv?: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Cli>; stderr(): string };
  /** Runs the CLI in this process (src/, through `main`): for the quick checks, no node start-up. */
  inProcess(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<Cli>;
  file(name: string): string;
  jobs(): string[];
  close(): Promise<void>;
}

export async function sandbox(simOptions: SimulatorOptions): Promise<Sandbox> {
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', ...simOptions });
  const dir = mkdtempSync(join(tmpdir(), 'claw-batch-test-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: 'test-key',
    CLAW_BATCH_STATE_DIR: join(dir, 'state'),
    CLAW_BATCH_POLL_INTERVAL_S: '0.2',
    NO_COLOR: '1',
  };
  const spawnCli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const done = new Promise<Cli>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
    return { child, done, stderr: () => stderr };
  };
  return {
    sim,
    dir,
    env,
    spawnCli,
    async cli(args, extraEnv = {}, timeoutMs = 30_000) {
      const { child, done } = spawnCli(args, extraEnv);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const out = await done;
      clearTimeout(timer);
      return out;
    },
    async inProcess(args, extraEnv = {}) {
      const out = collector();
      const err = collector();
      const code = await main(['node', 'claw-batch', ...args], {
        stdout: out.stream,
        stderr: err.stream,
        stdin: Readable.from([]),
        env: { ...env, ...extraEnv },
        cwd: dir,
      });
      return { code, stdout: out.text(), stderr: err.text() };
    },
    file: (name) => join(dir, name),
    jobs: () => {
      try {
        return readdirSync(join(dir, 'state', 'jobs')).filter((n) => n.endsWith('.json'));
      } catch {
        return [];
      }
    },
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Items in the flat shape; `model` of item i from `modelOf(i)`. */
export function writeItems(path: string, n: number, modelOf: (i: number) => string = () => 'claude-haiku-4-5'): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ custom_id: `item-${i}`, prompt: `Question ${i}: what is ${i} plus ${i}?`, model: modelOf(i), max_tokens: 64 }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The params the CLI builds from such an item, for `replyText`. */
export function paramsOf(i: number, model = 'claude-haiku-4-5') {
  return { model, max_tokens: 64, messages: [{ role: 'user', content: `Question ${i}: what is ${i} plus ${i}?` }] };
}

export function readResults(path: string): ResultLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ResultLine);
}

export function readManifest(sb: Sandbox, jobId: string): { batches: { id: string; count: number }[]; state: string; parentJob?: string; items: number } {
  return JSON.parse(readFileSync(join(sb.dir, 'state', 'jobs', `${jobId}.json`), 'utf8'));
}

export function textOf(line: ResultLine): string | undefined {
  if (line.result.type !== 'succeeded') return undefined;
  const block = line.result.message.content[0];
  return block && block.type === 'text' ? block.text : undefined;
}
