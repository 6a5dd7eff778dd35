import type { CommandContext } from './context.js';
import { NotBuiltError } from '../errors.js';

export interface ListOptions {
  /** How many of the account's recent batches to show. Default 20. */
  limit?: number;
  json?: boolean;
}

export async function list(_options: ListOptions, _ctx: CommandContext): Promise<number> {
  throw new NotBuiltError('list');
}
