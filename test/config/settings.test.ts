import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, type SettingsFlags } from '../../src/config.js';
import { ConfigError, UsageError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'claw-batch-config-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A fresh cwd holding the given files. */
function cwdWith(files: Record<string, string> = {}): string {
  const dir = join(root, String(++dirs));
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function load(flags: SettingsFlags = {}, opts: { env?: NodeJS.ProcessEnv; cwd?: string; configPath?: string } = {}) {
  return loadSettings(flags, { env: opts.env ?? {}, cwd: opts.cwd ?? cwdWith(), configPath: opts.configPath });
}

async function failure(yaml: string, name = 'claw-batch.config.yaml'): Promise<unknown> {
  return load({}, { cwd: cwdWith({ [name]: yaml }) }).then(
    () => {
      throw new Error('expected the config to be rejected');
    },
    (err: unknown) => err,
  );
}

const FULL_YAML = `
model: claude-haiku-4-5
max_tokens: 300
system: "You are a classifier."
mode: batch
realtime_threshold_minutes: 15
small_job_items: 50
providers:
  anthropic:
    rate_limit:
      max_rpm: 50
      max_itpm: 40000
      otpm: 8000
      max_concurrent: 5
      delay_ms: 20
      queue_overflow: fail
      queue_timeout_ms: 60000
      models:
        claude-sonnet-4-5: { max_rpm: 300 }
        claude-haiku-4-5: { otpm: 90000 }
    max_attempts: 4
    first_byte_timeout_ms: 30000
prices:
  claude-haiku-4-5: { input_per_mtok: 1.0, output_per_mtok: 5.0 }
`;

describe('settings', () => {
  it('has the documented defaults with no config, env or flags', async () => {
    expect(await load()).toEqual({
      maxTokens: 1024,
      concurrency: 1024,
      firstByteTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      stopGraceMs: 10_000,
      transport: 'stream',
      delayMs: 0,
      maxAttempts: 6,
      queueOverflow: 'wait',
      mode: 'auto',
      realtimeThresholdMinutes: 10,
      smallJobItems: 100,
      classLimits: {},
      sharedLimits: 'local',
      prices: {},
      configFile: undefined,
      origin: {},
    });
  });

  it('reads ./claw-batch.config.yaml from the cwd', async () => {
    const cwd = cwdWith({ 'claw-batch.config.yaml': FULL_YAML });
    expect(await load({}, { cwd })).toEqual({
      model: 'claude-haiku-4-5',
      maxTokens: 300,
      system: 'You are a classifier.',
      mode: 'batch',
      realtimeThresholdMinutes: 15,
      smallJobItems: 50,
      rpm: 50,
      itpm: 40000,
      otpm: 8000,
      concurrency: 5,
      delayMs: 20,
      queueOverflow: 'fail',
      queueTimeoutMs: 60000,
      maxAttempts: 4,
      firstByteTimeoutMs: 30000,
      idleTimeoutMs: 60_000,
      stopGraceMs: 10_000,
      transport: 'stream',
      classLimits: { 'claude-sonnet-4': { rpm: 300 }, 'claude-haiku-4-5': { otpm: 90000 } },
      sharedLimits: 'local',
      prices: {
        'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5, cacheWrite5mPerMTok: 1.25, cacheWrite1hPerMTok: 2, cacheReadPerMTok: 0.1 },
      },
      configFile: join(cwd, 'claw-batch.config.yaml'),
      origin: expect.any(Object),
    });
  });

  it('refuses a misspelt model under rate_limit.models, and takes a name it does not know as a newer model', async () => {
    const err = await failure('providers:\n  anthropic:\n    rate_limit:\n      models:\n        claude-hiaku-4-5: { max_rpm: 30 }\n');
    expect(String(err)).toMatch(/rate_limit\.models\.claude-hiaku-4-5: no model or model class is called "claude-hiaku-4-5" \(did you mean "claude-haiku-4-5"\?\)/);
    const newer = await failure('providers:\n  anthropic:\n    rate_limit:\n      models:\n        claude-haiku-7: { max_rpm: 30 }\n        claude-sonnet-4-6: { rpm: 0 }\n');
    // claude-haiku-7 passed; the next key's bad value is what fails.
    expect(String(newer)).toMatch(/claude-sonnet-4-6\.rpm/);
  });

  it('refuses two keys of rate_limit.models that name the same model class', async () => {
    const err = await failure('providers:\n  anthropic:\n    rate_limit:\n      models:\n        claude-sonnet-4-5: { rpm: 1 }\n        claude-sonnet-4-6: { rpm: 2 }\n');
    expect(String(err)).toMatch(/rate_limit\.models\.claude-sonnet-4-6: names the same model class \(claude-sonnet-4\)/);
  });

  it('reads JSON config files, found in the cwd or given by --config', async () => {
    const json = JSON.stringify({ providers: { anthropic: { model: 'm-json', rate_limit: { itpm: 1000 } } } });
    expect(await load({}, { cwd: cwdWith({ 'claw-batch.config.json': json }) })).toMatchObject({ model: 'm-json', itpm: 1000 });
    const cwd = cwdWith({ 'team.json': json });
    expect(await load({}, { cwd, configPath: 'team.json' })).toMatchObject({ model: 'm-json', configFile: join(cwd, 'team.json') });
  });

  it('takes flags over env over config over defaults', async () => {
    const cwd = cwdWith({ 'claw-batch.config.yml': 'model: from-config\nmax_tokens: 10\nproviders: {anthropic: {rate_limit: {max_rpm: 1, max_concurrent: 2}}}\n' });
    const env = { CLAW_BATCH_MODEL: 'from-env', CLAW_BATCH_RPM: '2', CLAW_BATCH_DELAY_MS: '5' };
    const settings = await load({ model: 'from-flag', rpm: undefined, maxTokens: undefined }, { env, cwd });
    expect(settings).toMatchObject({ model: 'from-flag', rpm: 2, delayMs: 5, maxTokens: 10, concurrency: 2, maxAttempts: 6 });
  });

  it('reads every CLAW_BATCH_* variable, ignoring empty ones', async () => {
    const env = {
      CLAW_BATCH_MODEL: 'm',
      CLAW_BATCH_MAX_TOKENS: '64',
      CLAW_BATCH_SYSTEM: 's',
      CLAW_BATCH_RPM: '60',
      CLAW_BATCH_ITPM: '1000',
      CLAW_BATCH_OTPM: '500',
      CLAW_BATCH_CONCURRENCY: '3',
      CLAW_BATCH_DELAY_MS: '0',
      CLAW_BATCH_MAX_ATTEMPTS: '2',
      CLAW_BATCH_MODE: 'realtime',
      CLAW_BATCH_QUEUE_OVERFLOW: 'fail',
      CLAW_BATCH_QUEUE_TIMEOUT_MS: '1500',
    };
    expect(await load({}, { env })).toMatchObject({
      model: 'm', maxTokens: 64, system: 's', rpm: 60, itpm: 1000, otpm: 500, concurrency: 3, delayMs: 0,
      maxAttempts: 2, mode: 'realtime', queueOverflow: 'fail', queueTimeoutMs: 1500,
    });
    expect((await load({}, { env: { CLAW_BATCH_MODEL: '' } })).model).toBeUndefined();
  });

  it('defaults max_tokens to 1024 but never the model, and any layer overrides the default', async () => {
    const none = await load();
    expect(none.maxTokens).toBe(1024);
    expect(none.model).toBeUndefined();
    expect((await load({}, { cwd: cwdWith({ 'claw-batch.config.yaml': 'max_tokens: 77\n' }) })).maxTokens).toBe(77);
    expect((await load({}, { env: { CLAW_BATCH_MAX_TOKENS: '88' } })).maxTokens).toBe(88);
    expect((await load({ maxTokens: 99 })).maxTokens).toBe(99);
  });

  it('rejects a bad environment value, naming the variable and the value', async () => {
    const rpm = load({}, { env: { CLAW_BATCH_RPM: 'fast' } });
    await expect(rpm).rejects.toBeInstanceOf(UsageError);
    await expect(rpm).rejects.toThrow('Invalid value for CLAW_BATCH_RPM: expected a positive number, got `fast`');
    await expect(load({}, { env: { CLAW_BATCH_MODE: 'turbo' } })).rejects.toThrow(/CLAW_BATCH_MODE: expected one of auto, realtime, batch, got `turbo`/);
    await expect(load({}, { env: { CLAW_BATCH_MAX_TOKENS: '1.5' } })).rejects.toThrow(/CLAW_BATCH_MAX_TOKENS/);
  });

  it('rejects a missing --config file', async () => {
    await expect(load({}, { configPath: 'nope.yaml' })).rejects.toThrow(new ConfigError('nope.yaml', undefined, 'no such file (given by --config)'));
  });
});

describe('config validation names the file and the dotted key', () => {
  it('a wrong type', async () => {
    const err = await failure('providers:\n  anthropic:\n    rate_limit:\n      max_rpm: fast\n');
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({
      message: 'claw-batch.config.yaml: providers.anthropic.rate_limit.max_rpm: expected a positive number, got "fast"',
      key: 'providers.anthropic.rate_limit.max_rpm',
    });
  });

  it.each([
    ['max_tokens: 0', 'max_tokens', 'expected a positive whole number, got 0'],
    ['model: 7', 'model', 'expected a non-empty string, got 7'],
    ['mode: fast', 'mode', 'expected one of auto, realtime, batch, got "fast"'],
    ['small_job_items: -1', 'small_job_items', 'expected a whole number >= 0, got -1'],
    ['realtime_threshold_minutes: soon', 'realtime_threshold_minutes', 'expected a number >= 0, got "soon"'],
    ['providers: {anthropic: {max_attempts: 0}}', 'providers.anthropic.max_attempts', 'expected a whole number >= 1, got 0'],
    ['providers: {anthropic: {rate_limit: {max_concurrent: 2.5}}}', 'providers.anthropic.rate_limit.max_concurrent', 'expected a whole number from 1 to 4096 (the maximum), got 2.5'],
    ['providers: {anthropic: {rate_limit: {queue_overflow: drop}}}', 'providers.anthropic.rate_limit.queue_overflow', 'expected one of wait, fail, got "drop"'],
    ['providers: {anthropic: {rate_limit: {queue_timeout_ms: -5}}}', 'providers.anthropic.rate_limit.queue_timeout_ms', 'expected a whole number >= 0, got -5'],
    ['providers: {anthropic: {rate_limit: 50}}', 'providers.anthropic.rate_limit', 'expected a mapping of keys to values, got 50'],
    ['prices: {m: {input_per_mtok: cheap, output_per_mtok: 1}}', 'prices.m.input_per_mtok', 'expected a number >= 0, got "cheap"'],
    ['prices: {m: {input_per_mtok: 1}}', 'prices.m.output_per_mtok', 'missing: give both input_per_mtok and output_per_mtok (US$ per million tokens)'],
  ])('%s', async (yaml, key, problem) => {
    expect(await failure(`${yaml}\n`)).toMatchObject({ key, message: `claw-batch.config.yaml: ${key}: ${problem}` });
  });

  it('an unknown key, with the keys that are known there', async () => {
    expect(await failure('providers:\n  anthropic:\n    rate_limit:\n      max_rmp: 5\n')).toMatchObject({
      key: 'providers.anthropic.rate_limit.max_rmp',
      message: expect.stringContaining('unknown key (expected one of: max_rpm,'),
    });
    expect(await failure('modle: x\n')).toMatchObject({ key: 'modle' });
    expect(await failure('providers: {openai: {}}\n')).toMatchObject({ key: 'providers.openai' });
  });

  it('the same setting given twice', async () => {
    expect(await failure('providers: {anthropic: {rate_limit: {max_itpm: 1, itpm: 2}}}\n')).toMatchObject({
      key: 'providers.anthropic.rate_limit.itpm',
    });
    expect(await failure('model: a\nproviders: {anthropic: {model: b}}\n')).toMatchObject({ key: 'providers.anthropic.model' });
  });

  it('a YAML syntax error, with its line', async () => {
    const err = await failure('model: m\nproviders:\n  anthropic: [1, 2\nprices: {}\n');
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^claw-batch\.config\.yaml: YAML syntax error at line 4: /);
    expect(await failure('a: 1\na: 2\n')).toMatchObject({ message: expect.stringMatching(/at line 2: Map keys must be unique/) });
  });

  it('a JSON syntax error, with its line', async () => {
    const err = await failure('{\n  "model": "m",\n}\n', 'claw-batch.config.json');
    expect((err as Error).message).toMatch(/^claw-batch\.config\.json: invalid JSON at line 3: /);
  });

  it('a top level that is not a mapping', async () => {
    expect(await failure('- a\n- b\n')).toMatchObject({ message: 'claw-batch.config.yaml: expected a mapping of keys to values, got a list' });
  });

  it('an empty file is no settings', async () => {
    expect(await load({}, { cwd: cwdWith({ 'claw-batch.config.yaml': '# nothing yet\n' }) })).toMatchObject({ mode: 'auto', prices: {} });
  });
});
