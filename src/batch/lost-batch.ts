/**
 * Finding a batch whose create call's answer was lost. After a 500, a dropped connection or a kill
 * during the create, the API may have made the batch without our learning its id; creating it again
 * would pay for every request twice. So before creating that chunk again, the account's recent
 * batches are searched for one that is surely not someone else's:
 * - its request count equals the chunk's;
 * - it was created within the window the lost create could have made it in: not before the job's
 *   previous batch (server clock) nor well before the create was sent (local clock, with slack for
 *   clock skew), and not after the create's timeout ran out (again with slack);
 * - no local job records it.
 * Exactly one such batch is adopted. None: the chunk is created. Several: none is adopted (a guess
 * could take another job's batch); the chunk is created and the candidates are named so a stray
 * one can be canceled. What is left: a batch of the same size made from another machine with the
 * same key in the same minutes could be taken for ours; its results are then not ours, and since
 * results are read only for the custom_ids the chunk holds (src/batch/results.ts), those items come
 * back errored ("no result") and `--retry-failed` resends them.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { listManifests, type JobManifest } from './manifest.js';
import { withRetry } from './transient.js';

type MessageBatch = Anthropic.Messages.MessageBatch;

/** How far the local clock may be off the API's, ms. */
const CLOCK_SLACK_MS = 10 * 60_000;
/** The client's request timeout (src/client.ts): a create cannot make its batch later than this after it was sent. */
const CREATE_TIMEOUT_MS = 10 * 60_000;
/** The search stops after this many of the account's batches (newest first). */
const MAX_SCANNED = 1000;

export interface LostCreate {
  /** Requests in the chunk. */
  count: number;
  /** When the lost create was sent (local clock). */
  sentAt: string;
  /** Creation time of the job's batch before this chunk (API clock), if any. */
  previousCreatedAt?: string;
}

export interface LostBatchSearch {
  /** The batch to adopt, when exactly one fits. */
  found?: MessageBatch;
  /** Every batch that fits (more than one: none is adopted). */
  candidates: MessageBatch[];
}

function total(b: MessageBatch): number {
  const c = b.request_counts;
  return c.processing + c.succeeded + c.errored + c.canceled + c.expired;
}

export async function findLostBatch(client: Anthropic, env: NodeJS.ProcessEnv, lost: LostCreate, signal?: AbortSignal): Promise<LostBatchSearch> {
  const sent = Date.parse(lost.sentAt);
  const notBefore = Math.max(sent - CLOCK_SLACK_MS, lost.previousCreatedAt ? Date.parse(lost.previousCreatedAt) : -Infinity);
  const notAfter = sent + CREATE_TIMEOUT_MS + CLOCK_SLACK_MS;
  const known = new Set((await listManifests(env)).flatMap((m: JobManifest) => m.batches.map((b) => b.id)));
  const retry = { signal, task: 'looking for a batch whose create was cut off' };

  const candidates: MessageBatch[] = [];
  const result = (): LostBatchSearch => ({ found: candidates.length === 1 ? candidates[0] : undefined, candidates });
  let scanned = 0;
  let page = await withRetry(() => client.messages.batches.list({ limit: 100 }), retry);
  for (;;) {
    for (const b of page.data) {
      const created = Date.parse(b.created_at);
      // Listed newest first: once older than the window, nothing further can fit.
      if (created < notBefore || ++scanned > MAX_SCANNED) return result();
      if (created <= notAfter && total(b) === lost.count && !known.has(b.id)) candidates.push(b);
    }
    if (!page.hasNextPage()) break;
    const current = page;
    page = await withRetry(() => current.getNextPage(), retry);
  }
  return result();
}
