/**
 * Structured results end to end: --schema against the simulator, 5% of its answers invalid, in
 * real time and through the Batches API; the results exported as CSV and read back; a schema
 * that is not JSON Schema refused before anything is sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults, sandbox, type Sandbox } from '../batch/helpers.js';
import type { ResultLine } from '../../src/types.js';

/** Enough items that 5% invalid answers are some twenty of them, few enough to stay quick. */
const N = 400;
const SCHEMA = JSON.parse(readFileSync(new URL('../../fixtures/ticket-schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ strict: false }).compile(SCHEMA);

function writeTickets(path: string): void {
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ custom_id: `t-${i}`, prompt: `Ticket ${i}: my parcel has not arrived.` }));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Every item once; a succeeded one parsed, valid, and equal to its text; an errored one a schema_error. */
function expectStructured(lines: ResultLine[]): { succeeded: number; schemaErrors: number } {
  expect(lines).toHaveLength(N);
  expect(new Set(lines.map((l) => l.custom_id)).size).toBe(N);
  let schemaErrors = 0;
  for (const l of lines) {
    if (l.result.type === 'succeeded') {
      const text = (l.result.message.content[0] as { text: string }).text;
      expect(l.parsed).toEqual(JSON.parse(text));
      expect(validate(l.parsed)).toBe(true);
    } else {
      expect(l.result.type).toBe('errored');
      if (l.result.type === 'errored') expect(l.result.error.error.type).toBe('schema_error');
      schemaErrors++;
    }
  }
  return { succeeded: N - schemaErrors, schemaErrors };
}

describe('structured results (--schema)', () => {
  let sb: Sandbox;
  const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '200', '--schema', 'schema.json'];
  beforeAll(async () => {
    sb = await sandbox({ rpm: 600_000, itpm: 100_000_000, otpm: 100_000_000, latencyMs: 2, batchMs: 150, invalidStructuredRate: 0.05, seed: 16 });
    writeFileSync(sb.file('schema.json'), JSON.stringify(SCHEMA));
    writeTickets(sb.file('items.jsonl'));
  });
  afterAll(() => sb.close());

  it('retries an answer that fails the schema, then writes it fixed or as schema_error; every item once, parsed', async () => {
    sb.sim.resetCounters();
    // The limits given and plain JSON answers: pacing and streaming are not what is tested here.
    const limits = ['--rpm', '600000', '--itpm', '100000000', '--otpm', '100000000'];
    const r = await sb.cli(['run', 'items.jsonl', ...MODEL, ...limits, '--realtime', '--max-attempts', '2', '--shared-limits', 'off', '-o', 'rt.jsonl', '--json'], {
      CLAW_BATCH_TRANSPORT: 'json',
    });
    expect([0, 1]).toContain(r.code);
    const { schemaErrors } = expectStructured(readResults(sb.file('rt.jsonl')));
    expect(r.code).toBe(schemaErrors > 0 ? 1 : 0);
    // About 20 invalid answers (5%) were asked again; only those.
    const sent = sb.sim.counters().requests;
    expect(sent).toBeGreaterThan(N + 4);
    expect(sent).toBeLessThan(N + 60);
    // The summary counts them on their own: every request beyond one per item was a schema retry.
    const summary = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { schema_retries: number; retried: number };
    expect(summary.schema_retries).toBe(sent - N);
    expect(summary.retried).toBe(sent - N);
    for (const l of readResults(sb.file('rt.jsonl')).filter((x) => x.result.type === 'errored')) {
      if (l.result.type === 'errored') expect(l.result.error.error.message).toMatch(/gave up after 2 attempts/);
    }
  });

  it('exports the results as CSV in input order that csv-parse reads back to the same values', async () => {
    const r = await sb.inProcess(['export', 'rt.jsonl', '--csv', '--input', 'items.jsonl', '-o', 'rt.csv']);
    expect(r.code).toBe(0);
    const rows = parse(readFileSync(sb.file('rt.csv')), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['custom_id', 'status', 'category', 'urgency', 'summary', 'tags', 'error_type', 'error_message']);
    expect(rows.map((row) => row.custom_id)).toEqual(Array.from({ length: N }, (_, i) => `t-${i}`));
    const byId = new Map(readResults(sb.file('rt.jsonl')).map((l) => [l.custom_id, l]));
    for (const row of rows) {
      const line = byId.get(row.custom_id!)!;
      expect(row.status).toBe(line.result.type);
      if (line.result.type === 'succeeded') {
        const p = line.parsed as Record<string, unknown>;
        expect([row.category, row.urgency, row.summary]).toEqual([p.category, p.urgency, p.summary]);
        expect(JSON.parse(row.tags!)).toEqual(p.tags);
        expect(row.error_type).toBe('');
      } else {
        expect(row.error_type).toBe('schema_error');
        expect(row.error_message).toMatch(/answer/);
      }
    }
  });

  it('through --batch-api: invalid answers are schema_error, and --retry-failed resends exactly those', async () => {
    const r = await sb.cli(['run', 'items.jsonl', ...MODEL, '--batch-api', '-o', 'b.jsonl', '--quiet']);
    expect(r.code).toBe(1);
    const first = expectStructured(readResults(sb.file('b.jsonl')));
    expect(first.schemaErrors).toBeGreaterThan(4);
    const [job] = sb.jobs();
    const jobId = job!.replace(/\.json$/, '');

    const retried = await sb.cli(['submit', '--retry-failed', jobId]);
    expect(retried.code).toBe(0);
    const retryId = retried.stdout.trim();
    const manifest = JSON.parse(readFileSync(sb.file(`state/jobs/${retryId}.json`), 'utf8')) as { items: number };
    expect(manifest.items).toBe(first.schemaErrors);

    const polled = await sb.cli(['poll', retryId, '--wait', '-o', 'b.jsonl', '--quiet']);
    const final = expectStructured(readResults(sb.file('b.jsonl')));
    expect(final.schemaErrors).toBeLessThan(first.schemaErrors);
    expect(polled.code).toBe(final.schemaErrors > 0 ? 1 : 0);
  });

  it('through --batch-api: an item with a schema of its own is checked against that one, not the job\'s', async () => {
    const SENTIMENT = { type: 'object', properties: { sentiment: { type: 'string', enum: ['positive', 'negative'] } }, required: ['sentiment'], additionalProperties: false };
    const own = new Ajv2020({ strict: false }).compile(SENTIMENT);
    const n = 200;
    // Every other item brings its own schema (an answer valid under it is never valid under the job's).
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ custom_id: `m-${i}`, prompt: `Ticket ${i}: thanks, it works.`, ...(i % 2 === 0 ? { schema: SENTIMENT } : {}) }),
    );
    writeFileSync(sb.file('mixed.jsonl'), `${lines.join('\n')}\n`);
    const r = await sb.cli(['run', 'mixed.jsonl', ...MODEL, '--batch-api', '-o', 'mixed.out.jsonl', '--quiet']);
    const results = readResults(sb.file('mixed.out.jsonl'));
    expect(new Set(results.map((l) => l.custom_id)).size).toBe(n);
    expect(results).toHaveLength(n);
    let ownSucceeded = 0;
    let errored = 0;
    for (const l of results) {
      const check = Number(l.custom_id.slice(2)) % 2 === 0 ? own : validate;
      if (l.result.type === 'succeeded') {
        expect(check(l.parsed), l.custom_id).toBe(true);
        if (check === own) ownSucceeded++;
      } else {
        expect(l.result.type === 'errored' && l.result.error.error.type).toBe('schema_error');
        errored++;
      }
    }
    // 5% of answers are invalid: most of the items with their own schema pass it.
    expect(ownSucceeded).toBeGreaterThan(80);
    expect(r.code).toBe(errored > 0 ? 1 : 0);
  });

  it('refuses a schema that is not JSON Schema: exit 2 naming the file and the problem, nothing sent', async () => {
    writeFileSync(sb.file('bad-schema.json'), JSON.stringify({ type: 'object', properties: { urgency: { type: 'strng' } } }));
    sb.sim.resetCounters();
    const r = await sb.inProcess(['run', 'items.jsonl', '--model', 'claude-haiku-4-5', '--schema', 'bad-schema.json', '--realtime']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^claw-batch: bad-schema\.json: not a valid JSON Schema: .*properties\/urgency\/type/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(sb.sim.counters().requests).toBe(0);
  });
});
