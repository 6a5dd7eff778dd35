/**
 * A real `redis-server` of the test's own, on a free port, keeping nothing on disk, so a test can
 * kill it mid-use and start it again on the same port. (The machine's own Redis on 6379 is never
 * used.) `useRedisServer()` starts one per test file and stops it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0` (`rediss://` with TLS), with `:password@` when it has one. */
  readonly url: string;
  /** Kills the server at once (SIGKILL), as a crash would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing). */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open but nothing answers, as with a hung server. */
  freeze(): void;
  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void;
  /** Stops it for good. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something on `port` answers PING with PONG (or NOAUTH, with a password set). */
async function waitForPong(port: number, timeoutMs: number, tls: boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
      let data = '';
      sock.setTimeout(500, () => sock.destroy());
      sock.on(tls ? 'secureConnect' : 'connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n')) {
          sock.destroy();
          resolve(data.startsWith('+PONG') || data.includes('NOAUTH'));
        }
      });
      sock.on('error', () => resolve(false));
      sock.on('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServerOptions {
  /** `--requirepass`. */
  password?: string;
  /** Default: a free one. */
  port?: number;
  /** A one-node Redis Cluster owning every slot: it refuses keys of one command in two slots (CROSSSLOT). */
  cluster?: boolean;
  /** TLS only (`rediss://`), with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
}

/** Gives a fresh cluster node every slot and waits for `cluster_state:ok`. */
async function ownAllSlots(port: number): Promise<void> {
  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout!.on('data', (d) => (out += d.toString()));
      p.on('error', reject);
      p.on('exit', () => resolve(out));
    });
  await cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  const deadline = Date.now() + 5000;
  while (!(await cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error(`the one-node cluster on port ${port} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let clusterDir: string | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const start = async () => {
    const listen = options.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
    if (options.password) args.push('--requirepass', options.password);
    if (options.cluster) {
      clusterDir ??= mkdtempSync(join(tmpdir(), 'claw-batch-redis-cluster-'));
      rmSync(join(clusterDir, 'nodes.conf'), { force: true });
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(clusterDir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1');
    }
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on port ${port}: ${stderr.trim()}`))),
    );
    exited.catch(() => {});
    child = proc;
    await Promise.race([waitForPong(port, 5000, Boolean(options.tls)), exited]);
    if (options.cluster) await ownAllSlots(port);
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || (proc.signalCode !== null && proc.signalCode !== 'SIGSTOP')) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}/0`,
    kill,
    restart: start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async stop() {
      await kill();
      process.off('exit', killOnExit);
      if (clusterDir) rmSync(clusterDir, { recursive: true, force: true });
    },
  };
}

/** One redis-server for the test file: started before its tests, stopped after. */
export function useRedisServer(options: RedisServerOptions = {}): { readonly server: RedisServer } {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the redis server is not started yet (use it inside a test)');
      return server;
    },
  };
}
