/**
 * Runs the real CLI binary (`node bin/claw-batch.js`, built into dist/ by `npm test`'s pretest)
 * as a child process, the way a user or a cron job would.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/claw-batch.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
  /** Called once the process has started, e.g. to kill it later. */
  onSpawn?: (child: ChildProcess) => void;
}

/** A clean environment: no real key or base URL leaks in from the developer's shell. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: cliEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    collectOutput(child, started, resolvePromise, reject);
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}

/**
 * Runs a bash command line in which `claw` is the CLI (`node bin/claw-batch.js`), for what only a
 * shell can set up: process substitution `<(...)`, pipes into `head`.
 */
export function runShell(script: string, options: Omit<CliOptions, 'stdin'> = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const env = cliEnv({ ...options.env, CLAW_NODE: process.execPath, CLAW_BIN: BIN });
    const child = spawn('bash', ['-c', `claw() { "$CLAW_NODE" "$CLAW_BIN" "$@"; }\n${script}`], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    collectOutput(child, started, resolvePromise, reject);
    options.onSpawn?.(child);
  });
}

/** Gathers a child's stdout and stderr, and resolves with them and its exit once it has closed. */
function collectOutput(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
  started: number,
  resolve: (r: CliResult) => void,
  reject: (err: Error) => void,
): void {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('error', reject);
  child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - started }));
}

export function tempDir(prefix = 'claw-batch-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `n` flat-shape items `{custom_id, prompt}` as JSONL and returns the path. */
export function writeItems(dir: string, n: number, prompt: (i: number) => string = (i) => `Classify ticket ${i}`, name = 'items.jsonl'): string {
  const path = join(dir, name);
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(JSON.stringify({ custom_id: `t-${i}`, prompt: prompt(i) }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export interface OutputLine {
  custom_id: string;
  result: { type: string; message?: { content: Array<{ type: string; text?: string }> }; error?: { error: { type: string; message: string } } };
}

export function readResults(path: string): OutputLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as OutputLine);
}

/** custom_id -> how many lines it has. */
export function countById(lines: OutputLine[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l.custom_id, (m.get(l.custom_id) ?? 0) + 1);
  return m;
}

export function textOf(line: OutputLine): string | undefined {
  return line.result.message?.content.find((b) => b.type === 'text')?.text;
}

/**
 * Resolves once process `pid` has a file open whose path contains `fragment` (Linux: the links in
 * /proc/<pid>/fd), e.g. the FIFO it reads or the temp file it spools stdin to: by then the CLI's
 * own code runs and its Ctrl-C handler is in place, so a test's signal does not race the process's
 * start-up on a loaded machine. (Node's own start-up handler would let the signal kill it.)
 */
export async function waitForOpenFile(pid: number, fragment: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return; // not Linux, or the process is gone: nothing more to wait for
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).includes(fragment)) return;
      } catch {
        // closed meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
