/**
 * The plan uses the limits a run still going on this machine has learned (they are in the local
 * store at once; the learned-limits file only when that run ends), and says exactly which limits
 * it assumed when only some are known.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accountFingerprint } from '../../src/limits/account-key.js';
import { SqliteStore, sqliteFileIn } from '../../src/limits/sqlite-store.js';
import { removeDir, runCli, tempDir, writeItems } from '../helpers/cli.js';

const KEY = 'sk-ant-api03-plan-test-key-0123456789';
const BASE = 'http://127.0.0.1:4010';
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

describe('the plan and the local store', () => {
  it('plans with the RPM another run has learned, and names the token limits it assumed', async () => {
    const dir = tempDir('claw-batch-plan-');
    dirs.push(dir);
    const state = join(dir, 'state');
    const store = new SqliteStore({ file: sqliteFileIn(state) });
    await store.setLearned({ account: accountFingerprint(KEY, BASE), modelClass: 'claude-haiku-4-5' }, { rpm: 60 });
    await store.close();
    const input = writeItems(dir, 1000);
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: BASE, CLAW_BATCH_STATE_DIR: state };
    const r = await runCli(['run', input, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--dry-run'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^plan: Message Batches API$/m);
    expect(r.stderr).toMatch(/real-time would take about 17 min at 60 requests\/min, over the 10 min threshold/);
    expect(r.stderr).toMatch(/claude-haiku-4-5: ITPM and OTPM not known: assuming the Start tier's \(2,000,000 input tokens, 400,000 output tokens per minute\)/);
    expect(r.stderr).not.toMatch(/limits not known for/);

    // Another key sees nothing of it: the Start tier, all three assumed.
    const other = await runCli(['run', input, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--dry-run'], { env: { ...env, ANTHROPIC_API_KEY: `${KEY}-other` } });
    expect(other.stderr).toMatch(/limits not known for claude-haiku-4-5: assuming the Start tier/);
  });
});
