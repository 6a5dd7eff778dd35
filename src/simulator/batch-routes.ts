/**
 * The Message Batches endpoints. Batch requests are validated for shape at create (custom_id,
 * count, size); bad Messages params inside them are not refused here but come back later as
 * `errored` results, as with the real API. Batches do not draw on the Messages rate limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, notFound } from './api-error.js';
import type { BatchRequest } from './batch-store.js';
import { readJson, sendJson } from './http-io.js';
import { cacheSettings, type SimulatorState } from './state.js';
import { BATCH_QUEUE_LIMITS } from './tiers.js';

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** A full processing queue empties as batches end, in minutes to hours: the retry-after it asks for. */
const QUEUE_RETRY_AFTER_S = 60;

function parseRequests(body: unknown, maxRequests: number): BatchRequest[] {
  const requests = (body as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests)) throw badRequest('requests: Field required');
  if (requests.length === 0) throw badRequest('requests: a batch needs at least one request');
  if (requests.length > maxRequests) {
    throw badRequest(`requests: a batch may hold at most ${maxRequests} requests, got ${requests.length}`);
  }
  const seen = new Set<string>();
  return requests.map((r: unknown, i): BatchRequest => {
    const { custom_id: id, params } = (r ?? {}) as { custom_id?: unknown; params?: unknown };
    if (typeof id !== 'string' || !CUSTOM_ID.test(id)) {
      throw badRequest(`requests.${i}.custom_id: \`${String(id)}\` must match ^[a-zA-Z0-9_-]{1,64}$`);
    }
    if (seen.has(id)) throw badRequest(`requests.${i}.custom_id: \`${id}\` is used more than once; custom_id must be unique within a batch`);
    seen.add(id);
    if (!params || typeof params !== 'object' || Array.isArray(params)) throw badRequest(`requests.${i}.params: Field required`);
    return { custom_id: id, params };
  });
}

export async function createBatch(state: SimulatorState, req: IncomingMessage, res: ServerResponse, requestId: string, origin: string) {
  state.counters.batchCreateCalls++;
  state.createCallsSinceFailSet++;
  const call = state.createCallsSinceFailSet;
  const body = await readJson(req, state.options.maxBatchBytes);
  if (state.options.failBatchCreates.includes(call)) throw new ApiError(500, 'api_error', 'Internal server error');
  const requests = parseRequests(body, state.options.maxBatchRequests);
  const now = Date.now();
  const queueLimit = state.options.batchQueueLimit ?? (state.options.tier ? BATCH_QUEUE_LIMITS[state.options.tier] : undefined);
  if (queueLimit !== undefined) {
    const queued = state.batches.queued(now);
    if (queued + requests.length > queueLimit) {
      state.counters.batchQueueRefusals++;
      throw new ApiError(
        429,
        'rate_limit_error',
        `This request would exceed your organization's limit of ${queueLimit} batch requests in the processing queue (${queued} are processing, this batch has ${requests.length}). Wait for batches to end, or send fewer requests.`,
        { headers: { 'retry-after': String(QUEUE_RETRY_AFTER_S) } },
      );
    }
  }
  const id = state.batches.create(requests, {
    now,
    durationMs: state.options.batchMs,
    expireRate: state.options.batchExpireRate,
    invalidStructuredRate: state.options.invalidStructuredRate,
    replies: { cache: cacheSettings(state), replyTokens: state.options.replyTokens },
  });
  state.counters.batchesCreated++;
  state.counters.batchQueuePeak = Math.max(state.counters.batchQueuePeak, state.batches.queued(now));
  sendJson(res, 200, state.batches.view(id, now, origin), requestId);
}

function batchNotFound(id: string): ApiError {
  return notFound(`message_batch: no batch with id ${id}`);
}

export function retrieveBatch(state: SimulatorState, id: string, res: ServerResponse, requestId: string, origin: string) {
  const view = state.batches.view(id, Date.now(), origin);
  if (!view) throw batchNotFound(id);
  sendJson(res, 200, view, requestId);
}

export function listBatches(state: SimulatorState, query: URLSearchParams, res: ServerResponse, requestId: string, origin: string) {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw badRequest(`limit: must be a whole number from 1 to 1000, got \`${rawLimit}\``);
  }
  const afterId = query.get('after_id') ?? undefined;
  const beforeId = query.get('before_id') ?? undefined;
  if (afterId !== undefined && beforeId !== undefined) throw badRequest('after_id and before_id cannot be used together');
  const page = state.batches.page({ limit, afterId, beforeId }, Date.now(), origin);
  if (!page) throw batchNotFound((afterId ?? beforeId)!);
  sendJson(res, 200, page, requestId);
}

export function cancelBatch(state: SimulatorState, id: string, res: ServerResponse, requestId: string, origin: string) {
  if (!state.batches.has(id)) throw batchNotFound(id);
  const now = Date.now();
  state.batches.cancel(id, now);
  sendJson(res, 200, state.batches.view(id, now, origin), requestId);
}

export function deleteBatch(state: SimulatorState, id: string, res: ServerResponse, requestId: string) {
  if (!state.batches.has(id)) throw batchNotFound(id);
  if (!state.batches.isEnded(id, Date.now())) {
    throw badRequest(`message_batch ${id} is still processing; cancel it and wait for it to end before deleting it`);
  }
  state.batches.delete(id);
  sendJson(res, 200, { id, type: 'message_batch_deleted' }, requestId);
}

/** Streams the results as JSONL in chunks, waiting for the socket to drain (100k lines stay flat). */
export async function batchResults(state: SimulatorState, id: string, res: ServerResponse, requestId: string) {
  if (!state.batches.has(id)) throw batchNotFound(id);
  if (!state.batches.isEnded(id, Date.now())) {
    throw badRequest(`message_batch ${id} has not ended yet; results are available once processing_status is ended`);
  }
  res.writeHead(200, { 'content-type': 'application/binary', 'request-id': requestId });
  let chunk = '';
  for (const line of state.batches.results(id, Date.now())) {
    chunk += `${JSON.stringify(line)}\n`;
    if (chunk.length >= 64 * 1024) {
      const flushed = res.write(chunk);
      chunk = '';
      if (!flushed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
        if (res.destroyed) return;
      }
    }
  }
  res.end(chunk);
}
