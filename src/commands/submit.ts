import type { CommandContext, InputFlags } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface SubmitOptions extends InputFlags {
  dryRun?: boolean;
  /** Submit even though a job for the same input is still active. */
  force?: boolean;
  /** Resend only the errored/expired/canceled items of this job, as a new linked job. */
  retryFailed?: string;
  quiet?: boolean;
  json?: boolean;
}

export async function submit(_options: SubmitOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('submit');
}
