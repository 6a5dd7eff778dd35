/**
 * Where claw-batch keeps job manifests and learned limits:
 * `$CLAW_BATCH_STATE_DIR`, else `$XDG_STATE_HOME/claw-batch`, else `~/.local/state/claw-batch`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLAW_BATCH_STATE_DIR) return env.CLAW_BATCH_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'claw-batch');
  return join(env.HOME || homedir(), '.local', 'state', 'claw-batch');
}
