import type { CommandContext } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface CancelOptions {
  id: string;
}

export async function cancel(_options: CancelOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('cancel');
}
