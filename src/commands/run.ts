import type { CommandContext, InputFlags } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface RunOptions extends InputFlags {
  output?: string;
  rpm?: number;
  itpm?: number;
  otpm?: number;
  concurrency?: number;
  delayMs?: number;
  /** `auto` (default), `realtime` or `batch` (`--realtime` / `--batch-api` set these). */
  mode?: 'auto' | 'realtime' | 'batch';
  urgent?: boolean;
  maxAttempts?: number;
  fresh?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export async function run(_options: RunOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('run');
}
