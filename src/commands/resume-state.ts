/**
 * What a rerun still has to do: the items of the input without a succeeded line in `-o`, per model,
 * so the plan (mode, time, cost) counts only those and the summary's numbers start right.
 */
import { resolve } from 'node:path';
import { promptChars, type ModelShare, type PreparedInput } from '../input/index.js';
import { peekResults } from '../output/index.js';

export interface PendingWork {
  /** Items still to do. */
  count: number;
  /** Their share per model. */
  byModel: Record<string, ModelShare>;
  /** Items of the input already succeeded in `-o`. */
  alreadyDone: number;
  /** Whether an item already succeeded in `-o`. */
  isDone: (customId: string) => boolean;
}

export async function pendingWork(prepared: PreparedInput, output: string | undefined, options: { fresh: boolean; cwd: string }): Promise<PendingWork> {
  const none = { count: prepared.count, byModel: prepared.byModel, alreadyDone: 0, isDone: () => false };
  if (output === undefined || options.fresh) return none;
  const existing = await peekResults(resolve(options.cwd, output), 'succeeded');
  if (existing.size === 0) return none;
  const isDone = (id: string) => existing.get(id) === 'succeeded';
  const byModel = Object.create(null) as Record<string, ModelShare>;
  let count = 0;
  let alreadyDone = 0;
  for await (const item of prepared.items()) {
    if (isDone(item.custom_id)) {
      alreadyDone += 1;
      continue;
    }
    count += 1;
    const share = (byModel[item.params.model] ??= { items: 0, promptChars: 0, maxTokens: 0 });
    share.items += 1;
    share.promptChars += promptChars(item.params);
    share.maxTokens += item.params.max_tokens;
  }
  return { count, byModel, alreadyDone, isDone };
}
