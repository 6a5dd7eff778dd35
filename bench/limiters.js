// claw-batch against the limiters people write by hand, on the simulator, scenario by scenario.
// Each scenario is an account shaped like a real one (the API's 2026 rules: limits per model
// class, output counted as produced, cache-aware input, rounded headers) with answers that take
// as long as real ones. Hand-written clients use the SDK with maxRetries: 0, as the naive loops in
// the wild do: a 429 is a lost item for them. Slow contenders are stopped after a time budget and
// judged by the rate they reached.
//
// Usage: npm run build && node bench/limiters.js [scenario ...]
//   scenarios: classic start-tier big-max-tokens otpm-bound cached-prefix two-classes (default: all)
// Prints achieved/limit for each contender, measured side by side in one run.
import Anthropic from '@anthropic-ai/sdk';
import PQueue from 'p-queue';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countResults, runCli, sleep, startSimulator, table, tempDir } from './lib.js';

const HAIKU = 'claude-haiku-4-5';
const SONNET = 'claude-sonnet-4-6';
/** Hand strategies stop after this long; their achieved rate is what counts. */
const HAND_BUDGET_MS = Number(process.env.BENCH_HAND_BUDGET_MS ?? 45_000);

const prompt = (i) => `Classify support ticket ${i}: my order has not arrived yet and I would like to know where it is.`;
const SHARED_SYSTEM = `You are a support triage assistant. ${'Follow the triage policy carefully. '.repeat(900)}`;

const scenarios = {
  classic: {
    title: '600 requests/min as a one-second bucket, 300 items, ~100 ms replies (the old benchmark)',
    sim: { rpm: 600, latencyMs: 100, jitterMs: 50 },
    items: 300,
    maxTokens: 64,
    limit: { kind: 'rpm', value: 600 },
    cliArgs: ['--rpm', '600'],
    learnedToo: true,
  },
  'start-tier': {
    title: 'Start tier (1,000 RPM, 2M ITPM, 400k OTPM), ~200-token answers in 2-3.5 s, max_tokens 1024, no flags',
    sim: { tier: 'start', latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 150, max: 250 } },
    items: 1500,
    maxTokens: 1024,
    limit: { kind: 'rpm', value: 1000 },
  },
  'big-max-tokens': {
    title: 'max_tokens 4096, ~100-token answers, 600 RPM and a 90k OTPM that does not bind',
    sim: { rpm: 600, itpm: 2_000_000, otpm: 90_000, latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 80, max: 120 } },
    items: 900,
    maxTokens: 4096,
    limit: { kind: 'rpm', value: 600 },
  },
  'otpm-bound': {
    title: 'OTPM binds: 90k OTPM, ~1,000-token answers at 100 tokens/s (~10 s each), max_tokens 4096',
    sim: { rpm: 1000, itpm: 2_000_000, otpm: 90_000, latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 800, max: 1200 } },
    items: 400,
    maxTokens: 4096,
    limit: { kind: 'otpm', value: 90_000 },
  },
  'cached-prefix': {
    title: 'a shared 8k-token cached system prompt, 1,000 RPM, 2M ITPM; the cache is evicted 40 s in',
    sim: { tier: 'start', latencyMs: 500, jitterMs: 200, outputTokensPerSecond: 100, replyTokens: { min: 50, max: 100 } },
    items: 1500,
    maxTokens: 256,
    system: [{ type: 'text', text: SHARED_SYSTEM, cache_control: { type: 'ephemeral' } }],
    limit: { kind: 'rpm', value: 1000 },
    flushAtMs: 40_000,
  },
  'two-classes': {
    title: 'Haiku and Sonnet interleaved, Haiku at 1,000 RPM and Sonnet at 300 RPM, ~2.5 s answers',
    sim: {
      tier: 'start',
      classLimits: { 'claude-sonnet-4': { rpm: 300 } },
      latencyMs: 500,
      jitterMs: 200,
      outputTokensPerSecond: 100,
      replyTokens: { min: 150, max: 250 },
    },
    items: 1200,
    maxTokens: 1024,
    modelOf: (i) => (i % 2 === 0 ? SONNET : HAIKU),
    limit: { kind: 'rpm', value: 1300 },
    perClass: { 'claude-haiku-4-5': 1000, 'claude-sonnet-4': 300 },
    perClassItems: { 'claude-haiku-4-5': 600, 'claude-sonnet-4': 600 },
  },
};

function writeInput(dir, s) {
  const lines = [];
  for (let i = 1; i <= s.items; i++) {
    const rec = { custom_id: `t-${i}`, model: s.modelOf?.(i) ?? HAIKU, max_tokens: s.maxTokens, prompt: prompt(i) };
    if (s.system) rec.system = s.system;
    lines.push(JSON.stringify(rec));
  }
  const path = join(dir, 'items.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function params(s, i) {
  const p = { model: s.modelOf?.(i) ?? HAIKU, max_tokens: s.maxTokens, messages: [{ role: 'user', content: prompt(i) }] };
  if (s.system) p.system = s.system;
  return p;
}

/** The hand-written strategies, each given `send(i)` and a deadline. */
function handStrategies(s, rpm) {
  const ids = Array.from({ length: s.items }, (_, i) => i + 1);
  return {
    'fire all at once': async (send) => {
      await Promise.all(ids.map(send));
    },
    '60 s sliding window': async (send, until) => {
      const sent = [];
      await Promise.all(
        ids.map(async (i) => {
          for (;;) {
            if (Date.now() > until) return;
            const now = Date.now();
            while (sent.length && sent[0] <= now - 60_000) sent.shift();
            if (sent.length < rpm) break;
            await sleep(Math.min(1000, sent[0] + 60_000 - now));
          }
          sent.push(Date.now());
          await send(i);
        }),
      );
    },
    '5 workers, 1 s sleep': async (send, until) => {
      const queue = [...ids];
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          for (let i = queue.shift(); i !== undefined && Date.now() < until; i = queue.shift()) {
            await send(i);
            await sleep(1000);
          }
        }),
      );
    },
    'p-queue, intervalCap per minute': async (send, until) => {
      const q = new PQueue({ intervalCap: rpm, interval: 60_000, concurrency: 50 });
      await Promise.all(ids.map((i) => q.add(() => (Date.now() < until ? send(i) : undefined))));
    },
  };
}

/** achieved / limit from the simulator's counters over `ms`. */
function ratio(s, c, ms) {
  if (s.limit.kind === 'otpm') return (c.outputTokens / (ms / 60_000)) / s.limit.value;
  return (c.succeeded / (ms / 60_000)) / s.limit.value;
}

async function runScenario(name) {
  const s = scenarios[name];
  const sim = await startSimulator(s.sim);
  const client = new Anthropic({ apiKey: 'bench-key', baseURL: sim.url, maxRetries: 0 });
  const rows = [];
  const rpm = s.limit.kind === 'rpm' ? s.limit.value : 1000;
  for (const [approach, fn] of Object.entries(handStrategies(s, rpm))) {
    await sleep(2000); // let the buckets refill between contenders
    sim.flushCache();
    sim.resetCounters();
    const tally = { succeeded: 0, failed: 0 };
    const t0 = performance.now();
    const until = Date.now() + HAND_BUDGET_MS;
    await fn(async (i) => {
      try {
        await client.messages.create(params(s, i));
        tally.succeeded += 1;
      } catch {
        tally.failed += 1;
      }
    }, until);
    const ms = performance.now() - t0;
    const c = sim.counters();
    // A rate is only meaningful for an approach that lost nothing: one that lost items "achieved"
    // a burst before its 429s, which says nothing about keeping to the limit.
    const achieved = tally.failed > 0 ? '—' : ratio(s, c, ms).toFixed(2);
    rows.push({ approach, succeeded: tally.succeeded, lost: tally.failed, '429s': c.rateLimited, 'achieved / limit': achieved, seconds: (ms / 1000).toFixed(0) });
  }

  const dir = tempDir();
  const input = writeInput(dir, s);
  const variants = [{ label: s.cliArgs ? `claw-batch run ${s.cliArgs.join(' ')}` : 'claw-batch run (no flags)', args: s.cliArgs ?? [] }];
  if (s.learnedToo) variants.push({ label: 'claw-batch run (limit learned)', args: [] });
  for (const [k, v] of variants.entries()) {
    await sleep(2000);
    sim.flushCache();
    sim.resetCounters();
    const out = join(dir, `out-${k}.jsonl`);
    let flush;
    if (s.flushAtMs) flush = setTimeout(() => sim.flushCache(), s.flushAtMs);
    // Per class: when it had all its answers, sampled twice a second.
    const started = performance.now();
    const doneAt = {};
    const sampler = s.perClass
      ? setInterval(() => {
          const byClass = sim.counters().byClass ?? {};
          for (const [cls, want] of Object.entries(s.perClassItems ?? {})) {
            if (doneAt[cls] === undefined && (byClass[cls]?.succeeded ?? 0) >= want) doneAt[cls] = performance.now() - started;
          }
        }, 500)
      : undefined;
    const r = await runCli(['run', input, '-o', out, '--realtime', '--quiet', ...v.args], {
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'bench-key',
      CLAW_BATCH_STATE_DIR: join(dir, `state-${k}`),
    });
    clearTimeout(flush);
    clearInterval(sampler);
    const c = sim.counters();
    const counts = countResults(out);
    const row = {
      approach: v.label,
      succeeded: counts.succeeded,
      lost: s.items - counts.succeeded,
      '429s': c.rateLimited,
      'achieved / limit': ratio(s, c, r.ms).toFixed(2),
      seconds: (r.ms / 1000).toFixed(0),
    };
    if (s.flushAtMs) row.approach += `, cache writes ${c.cacheWrites}`;
    rows.push(row);
    if (s.perClass) {
      // Each class at its own limit at the same time: its items over the time until it had them all.
      for (const [cls, limit] of Object.entries(s.perClass)) {
        const n = s.perClassItems[cls];
        const ms = doneAt[cls] ?? r.ms;
        rows.push({ approach: `  ${cls} (${n} items)`, succeeded: c.byClass?.[cls]?.succeeded ?? 0, lost: '', '429s': c.byClass?.[cls]?.rateLimited ?? 0, 'achieved / limit': (n / (ms / 60_000) / limit).toFixed(2), seconds: (ms / 1000).toFixed(0) });
      }
    }
  }
  await sim.close();
  console.log(`\n## ${name}: ${s.title}\n`);
  console.log(table(rows, ['approach', 'succeeded', 'lost', '429s', 'achieved / limit', 'seconds']));
}

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(scenarios);
for (const name of chosen) {
  if (!scenarios[name]) {
    console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  await runScenario(name);
}
