/**
 * One simulator per test file, a fresh temp dir per test, and the environment that points the
 * CLI at both (the state dir inside the temp dir, so tests never touch the user's).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { removeDir, tempDir } from './cli.js';

export interface SimulatorFixture {
  /** The running simulator. */
  readonly sim: Simulator;
  /** A new temp dir for this test (removed after it). */
  newDir(): string;
  /** ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and CLAW_BATCH_STATE_DIR for the CLI. */
  env(key?: string): Record<string, string>;
}

export function useSimulator(options: SimulatorOptions = {}, resetAfterEach: Partial<SimulatorOptions> = {}): SimulatorFixture {
  let sim: Simulator | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    sim = await startSimulator(options);
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    sim?.setOptions(resetAfterEach);
    if (dir) removeDir(dir);
    dir = undefined;
  });
  return {
    get sim() {
      if (!sim) throw new Error('the simulator is not started yet (use it inside a test)');
      return sim;
    },
    newDir() {
      dir = tempDir();
      return dir;
    },
    env(key = 'test-key') {
      if (!sim || !dir) throw new Error('call newDir() first');
      return { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: key, CLAW_BATCH_STATE_DIR: join(dir, 'state') };
    },
  };
}
