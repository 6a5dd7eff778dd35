// The organization's limit, as the API enforces it: every key of an organization spends the same
// buckets, a workspace may hold its keys lower, and other tools of the organization spend them
// too. Each scenario runs claw-batch (the proxy, or `run` processes) against the simulator with
// answers as long as real ones, and prints what the API saw: 429s, and the pace against the limit.
// Nothing asserts; the tests pin looser bounds of the same (test/run/organization.test.ts, test/proxy/organization.test.ts).
//
// Usage: npm run build && node bench/organization.js [scenario ...]
//   scenarios: proxy-keys proxy-keys-streamed two-runs two-orgs workspace unseen short-cached short-start-tier (default: all)
//
// "achieved / limit" is over the whole run: the items a process got answered, over the time from
// its start to its exit (start-up, the first answer and the last ones included), against the limit.
// "pace at the API" is the requests admitted per minute between the first and the last arrival.
import Anthropic from '@anthropic-ai/sdk';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countResults, root, runCli, sleep, startSimulator, table, tempDir } from './lib.js';

const HAIKU = 'claude-haiku-4-5';
/** Answers of 150-250 tokens at 100 tokens/s after 0.3-0.7 s: 2-3.2 s each, like real ones. */
const REAL_ANSWERS = { latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 150, max: 250 } };
const SHARED_SYSTEM = `You are a support triage assistant. ${'Follow the triage policy carefully. '.repeat(900)}`;

function writeInput(dir, name, n, extra = {}) {
  const lines = [];
  for (let i = 1; i <= n; i++) lines.push(JSON.stringify({ custom_id: `${name}-${i}`, model: HAIKU, max_tokens: 1024, prompt: `Ticket ${name} ${i}: my order has not arrived; where is it?`, ...extra }));
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** `claw-batch run` as a child process, with its own key; the state dir (and so the local store) is shared. */
async function run(sim, dir, { name, key, items, extra, args = [] }) {
  const input = writeInput(dir, name, items, extra);
  const out = join(dir, `${name}.out.jsonl`);
  const startedAt = Date.now();
  const r = await runCli(['run', input, '-o', out, '--realtime', '--quiet', ...args], {
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: key,
    CLAW_BATCH_STATE_DIR: join(dir, 'state'),
  });
  const counts = countResults(out);
  return { name, items, ms: r.ms, startedAt, endedAt: startedAt + r.ms, succeeded: counts.succeeded, code: r.code };
}

function paceAtApi(c, limit) {
  if (!c.firstRequestAt || !c.lastRequestAt || c.lastRequestAt === c.firstRequestAt) return '—';
  return ((c.requests - c.rateLimited) / ((c.lastRequestAt - c.firstRequestAt) / 60_000) / limit).toFixed(2);
}

/** Where a run's time went: start-up until the API saw its first request, sending, and the last answers. */
function phases(r, c) {
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  return { 'to first request': s(c.firstRequestAt - r.startedAt), sending: s(c.lastRequestAt - c.firstRequestAt), 'after last request': s(r.endedAt - c.lastRequestAt) };
}

const achieved = (n, ms, limit) => (n / (ms / 60_000) / limit).toFixed(2);

/** `claw-batch proxy` as a child process; resolves with its URL and a stop function. */
function proxy(upstream, dir) {
  const child = spawn(process.execPath, [join(root, 'bin/claw-batch.js'), 'proxy', '--port', '0', '--upstream', upstream], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', CLAW_BATCH_STOP_GRACE_MS: '1000', CLAW_BATCH_STATE_DIR: join(dir, 'state') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /export ANTHROPIC_BASE_URL=(\S+)/.exec(err);
      if (m) resolve({ url: m[1], stop: () => new Promise((r) => (child.kill('SIGINT'), child.on('close', r))) });
    });
    child.on('close', (code) => reject(new Error(`proxy exited ${code}: ${err}`)));
  });
}

/**
 * Naive agents: each its own SDK client (no retries, no limiter) and key, with `workers` requests
 * in flight at a time until it has sent `each`.
 */
async function agents(url, { count, keys, each, workers, stream, maxTokens = 1024 }) {
  let failed = 0;
  let succeeded = 0;
  let outputTokens = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, a) => {
      const client = new Anthropic({ apiKey: keys(a), baseURL: url, maxRetries: 0, timeout: 600_000 });
      let next = 0;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = next++; i < each; i = next++) {
            const params = { model: HAIKU, max_tokens: maxTokens, messages: [{ role: 'user', content: `Agent ${a} task ${i}: summarise the ticket.` }] };
            try {
              const m = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
              succeeded += 1;
              outputTokens += m.usage.output_tokens;
            } catch {
              failed += 1;
            }
          }
        }),
      );
    }),
  );
  return { succeeded, failed, outputTokens, ms: performance.now() - started };
}

const scenarios = {
  'proxy-keys': {
    title: 'ten naive SDK agents through the proxy told nothing, one organization at 1,200 RPM, 2-3 s answers: ten keys vs one key',
    async run() {
      const rows = [];
      for (const [label, keys] of [
        ['ten keys of one organization', (a) => `agent-key-${a}`],
        ['one key for all ten', () => 'agent-key-shared'],
      ]) {
        const sim = await startSimulator({ rpm: 1200, itpm: 2_000_000, otpm: 400_000, ...REAL_ANSWERS });
        const dir = tempDir();
        const p = await proxy(sim.url, dir);
        const r = await agents(p.url, { count: 10, keys, each: 60, workers: 8 });
        await p.stop();
        const c = sim.counters();
        rows.push({ clients: label, succeeded: r.succeeded, failed: r.failed, 'upstream 429s': `${c.rateLimited} (${((100 * c.rateLimited) / c.requests).toFixed(1)}%)`, 'achieved / limit': achieved(r.succeeded, r.ms, 1200), 'pace at the API': paceAtApi(c, 1200), seconds: (r.ms / 1000).toFixed(0) });
        await sim.close();
      }
      return table(rows, ['clients', 'succeeded', 'failed', 'upstream 429s', 'achieved / limit', 'pace at the API', 'seconds']);
    },
  },
  'proxy-keys-streamed': {
    title: 'the same, streamed, where output tokens bind: 60k OTPM, ~600-token answers at 100 tokens/s, ten keys vs one',
    async run() {
      const rows = [];
      for (const [label, keys] of [
        ['ten keys of one organization', (a) => `agent-key-${a}`],
        ['one key for all ten', () => 'agent-key-shared'],
      ]) {
        const sim = await startSimulator({ rpm: 1200, itpm: 2_000_000, otpm: 60_000, latencyMs: 300, jitterMs: 100, outputTokensPerSecond: 100, replyTokens: { min: 500, max: 700 } });
        const dir = tempDir();
        const p = await proxy(sim.url, dir);
        const r = await agents(p.url, { count: 10, keys, each: 12, workers: 4, stream: true, maxTokens: 4096 });
        await p.stop();
        const c = sim.counters();
        rows.push({ clients: label, succeeded: r.succeeded, failed: r.failed, 'upstream 429s': `${c.rateLimited} (${((100 * c.rateLimited) / c.requests).toFixed(1)}%)`, 'output / OTPM': (r.outputTokens / (r.ms / 60_000) / 60_000).toFixed(2), seconds: (r.ms / 1000).toFixed(0) });
        await sim.close();
      }
      return table(rows, ['clients', 'succeeded', 'failed', 'upstream 429s', 'output / OTPM', 'seconds']);
    },
  },
  'two-runs': {
    title: 'two `run` processes at once, two keys of one organization at 600 RPM, 300 items each, 2-3 s answers, no flags',
    async run() {
      const rows = [];
      for (const [label, keys] of [
        ['two keys of one organization', ['run-key-a', 'run-key-b']],
        ['one key for both', ['run-key-same', 'run-key-same']],
      ]) {
        const sim = await startSimulator({ rpm: 600, itpm: 2_000_000, otpm: 400_000, ...REAL_ANSWERS });
        const dir = tempDir();
        const started = performance.now();
        const rs = await Promise.all(keys.map((key, i) => run(sim, dir, { name: `job${i}`, key, items: 300 })));
        const ms = performance.now() - started;
        const c = sim.counters();
        const ok = rs.reduce((n, r) => n + r.succeeded, 0);
        rows.push({ keys: label, succeeded: ok, '429s': `${c.rateLimited} (${((100 * c.rateLimited) / c.requests).toFixed(1)}%)`, 'achieved / limit': achieved(ok, ms, 600), 'pace at the API': paceAtApi(c, 600), seconds: (ms / 1000).toFixed(0) });
        await sim.close();
      }
      return table(rows, ['keys', 'succeeded', '429s', 'achieved / limit', 'pace at the API', 'seconds']);
    },
  },
  'two-orgs': {
    title: 'two `run` processes at once on one machine, keys of two organizations each at 600 RPM: neither shares the other\'s limit',
    async run() {
      const sim = await startSimulator({
        rpm: 600, itpm: 2_000_000, otpm: 400_000, ...REAL_ANSWERS,
        organizations: [{ id: 'org-one', keys: ['org-one-key'] }, { id: 'org-two', keys: ['org-two-key'] }],
      });
      const dir = tempDir();
      const rs = await Promise.all([run(sim, dir, { name: 'one', key: 'org-one-key', items: 300 }), run(sim, dir, { name: 'two', key: 'org-two-key', items: 300 })]);
      const c = sim.counters();
      const rows = rs.map((r, i) => {
        const o = c.byOrganization[i === 0 ? 'org-one' : 'org-two'];
        return { organization: i === 0 ? 'org-one' : 'org-two', succeeded: r.succeeded, '429s': o.rateLimited, 'achieved / own limit': achieved(r.succeeded, r.ms, 600), seconds: (r.ms / 1000).toFixed(0) };
      });
      await sim.close();
      return table(rows, ['organization', 'succeeded', '429s', 'achieved / own limit', 'seconds']);
    },
  },
  workspace: {
    title: 'a workspace held to 200 RPM inside a 1,000 RPM organization, run beside a key of the organization\'s default workspace',
    async run() {
      const sim = await startSimulator({
        rpm: 1000, itpm: 2_000_000, otpm: 400_000, ...REAL_ANSWERS,
        organizations: [{ id: 'org-w', keys: ['main-key'], workspaces: [{ id: 'wrkspc_batch', keys: ['ws-key'], rpm: 200 }] }],
      });
      const dir = tempDir();
      const [ws, main] = await Promise.all([run(sim, dir, { name: 'ws', key: 'ws-key', items: 200 }), run(sim, dir, { name: 'main', key: 'main-key', items: 600 })]);
      const c = sim.counters();
      const w = c.byOrganization['org-w/wrkspc_batch'];
      const m = c.byOrganization['org-w'];
      await sim.close();
      return table(
        [
          { key: 'workspace key (limit 200 RPM)', succeeded: ws.succeeded, '429s': w.rateLimited, 'achieved / its limit': achieved(ws.succeeded, ws.ms, 200), seconds: (ws.ms / 1000).toFixed(0) },
          { key: 'organization key (1,000 RPM less the workspace\'s 200)', succeeded: main.succeeded, '429s': m.rateLimited, 'achieved / its limit': achieved(main.succeeded, main.ms, 800), seconds: (main.ms / 1000).toFixed(0) },
        ],
        ['key', 'succeeded', '429s', 'achieved / its limit', 'seconds'],
      );
    },
  },
  unseen: {
    title: 'another tool of the organization spends 300 of its 1,000 RPM unseen; one `run` of 600 items, no flags',
    async run() {
      const sim = await startSimulator({ rpm: 1000, itpm: 2_000_000, otpm: 400_000, ...REAL_ANSWERS, unseenTraffic: { rpm: 300 } });
      const dir = tempDir();
      await sleep(2000);
      sim.resetCounters();
      const r = await run(sim, dir, { name: 'job', key: 'mine', items: 600 });
      const c = sim.counters();
      await sim.close();
      return table(
        [{ run: 'claw-batch run (no flags)', succeeded: r.succeeded, '429s': `${c.rateLimited} (${((100 * c.rateLimited) / c.requests).toFixed(1)}%)`, "the other tool's 429s": c.unseen.refused, 'achieved / what is left (700)': achieved(r.succeeded, r.ms, 700), seconds: (r.ms / 1000).toFixed(0) }],
        ['run', 'succeeded', '429s', "the other tool's 429s", 'achieved / what is left (700)', 'seconds'],
      );
    },
  },
  'short-cached': {
    title: 'a short job: 300 items sharing an 8k-token cached system prompt, 1,200 RPM, fresh state (nothing learned yet)',
    async run() {
      const sim = await startSimulator({ rpm: 1200, itpm: 2_000_000, otpm: 400_000, latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 50, max: 100 } });
      const dir = tempDir();
      const r = await run(sim, dir, { name: 'cached', key: 'k', items: 300, extra: { max_tokens: 256, system: [{ type: 'text', text: SHARED_SYSTEM, cache_control: { type: 'ephemeral' } }] } });
      const c = sim.counters();
      await sim.close();
      return table([{ job: '300 items, cached prefix', succeeded: r.succeeded, '429s': c.rateLimited, 'cache writes': c.cacheWrites, 'achieved / limit': achieved(r.succeeded, r.ms, 1200), 'pace at the API': paceAtApi(c, 1200), seconds: (r.ms / 1000).toFixed(1), ...phases(r, c) }], ['job', 'succeeded', '429s', 'cache writes', 'achieved / limit', 'pace at the API', 'seconds', 'to first request', 'sending', 'after last request']);
    },
  },
  'short-start-tier': {
    title: 'a short job at the Start tier: 400 items, 2-3.5 s answers, max_tokens 1024, fresh state',
    async run() {
      const sim = await startSimulator({ tier: 'start', latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 150, max: 300 } });
      const dir = tempDir();
      const r = await run(sim, dir, { name: 'start', key: 'k', items: 400 });
      const c = sim.counters();
      await sim.close();
      return table([{ job: '400 items, Start tier', succeeded: r.succeeded, '429s': c.rateLimited, 'achieved / limit': achieved(r.succeeded, r.ms, 1000), 'pace at the API': paceAtApi(c, 1000), seconds: (r.ms / 1000).toFixed(1), ...phases(r, c) }], ['job', 'succeeded', '429s', 'achieved / limit', 'pace at the API', 'seconds', 'to first request', 'sending', 'after last request']);
    },
  },
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(scenarios);
for (const name of chosen) {
  if (!scenarios[name]) {
    console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}: ${scenarios[name].title}\n`);
  console.log(await scenarios[name].run());
}
