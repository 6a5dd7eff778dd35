import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/limits/sqlite-store.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { fakeClock } from './fake-clock.js';
import { storeContract } from './store-contract.js';

const dir = tempDir('claw-batch-sqlite-');
afterAll(() => removeDir(dir));
const clock = fakeClock();
let file = '';
let n = 0;

storeContract('SQLite (local)', {
  create: async () => new SqliteStore({ file: (file = join(dir, `limits-${++n}.sqlite`)), now: clock.now }),
  sibling: async () => new SqliteStore({ file, now: clock.now }),
  ...clock,
  slackMs: 0,
});
