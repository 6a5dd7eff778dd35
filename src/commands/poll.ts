import type { CommandContext } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface PollOptions {
  /** A claw-batch job id or a `msgbatch_…` id. */
  id: string;
  output?: string;
  wait?: boolean;
  /** Seconds between polls to start with (grows). Default 10. */
  interval?: number;
  quiet?: boolean;
  json?: boolean;
}

export async function poll(_options: PollOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('poll');
}
