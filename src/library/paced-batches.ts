/**
 * `messages.batches.*` of a wrapped client: each call waits for its turn under the Message Batches
 * endpoints' own request limit (per organization, for every model together: BATCHES_CLASS), never
 * under the Messages limits — a batch create is one request to the batch endpoints, not as many
 * Messages requests as it holds. A 429 pauses every batch call on the store for `retry-after` and
 * the call goes again, unseen, while `maxWaitMs` allows; the limit is learned from the answers'
 * headers, or given (`batchRpm`). Any other failure is the SDK's own error, thrown as it came.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { APIError } from '@anthropic-ai/sdk/core/error';
import { classifyFailure } from '../api-failure.js';
import { StoppedError } from '../errors.js';
import type { ClassBudget } from '../limits/class-budget.js';
import { parseRateLimitHeaders } from '../limits/rate-limit-headers.js';
import type { Accounts } from '../proxy/index.js';
import { AbortedError, RateLimitWaitError } from './errors.js';
import { pacedPromise, type PacedPromise, type WithResponse } from './paced-call.js';

type Batches = Anthropic['messages']['batches'];
type RequestOptions = NonNullable<Parameters<Batches['create']>[1]>;
type MessageBatch = Anthropic.Messages.Batches.MessageBatch;
type Page = Awaited<ReturnType<Batches['list']>>;

export interface PacedBatches {
  create(params: Anthropic.Messages.Batches.BatchCreateParams, options?: RequestOptions): PacedPromise<MessageBatch>;
  retrieve(id: string, params?: Parameters<Batches['retrieve']>[1], options?: RequestOptions): PacedPromise<MessageBatch>;
  /** The first page (awaited); iterated, every batch of every page, each page paced. */
  list(params?: Parameters<Batches['list']>[0], options?: RequestOptions): PacedPromise<Page> & AsyncIterable<MessageBatch>;
  cancel(id: string, params?: Parameters<Batches['cancel']>[1], options?: RequestOptions): PacedPromise<MessageBatch>;
  delete(id: string, params?: Parameters<Batches['delete']>[1], options?: RequestOptions): PacedPromise<Anthropic.Messages.Batches.DeletedMessageBatch>;
  /** The results as the SDK gives them (a JSONL decoder); two requests (the batch, then its results). */
  results(id: string, params?: Parameters<Batches['results']>[1], options?: RequestOptions): Promise<Awaited<ReturnType<Batches['results']>>>;
}

export interface BatchesContext {
  client: Anthropic;
  /** The store and the lanes, opened on first use. */
  accounts(): Promise<Accounts>;
  maxWaitMs: number;
  stopped: AbortSignal;
  stopError(): Error;
  onStop(error: StoppedError): void;
}

type Send<T> = (options: RequestOptions) => Promise<WithResponse<T>>;

/** One request to the batch endpoints; `results` is two. */
const ONE = { requests: 1, inputTokens: 0, outputTokens: 0 };
const TWO = { requests: 2, inputTokens: 0, outputTokens: 0 };

export function pacedBatches(ctx: BatchesContext): PacedBatches {
  const sdk = () => ctx.client.messages.batches;
  const answer = pacedPromise;
  const api = <T>(call: (o: RequestOptions) => { withResponse(): Promise<WithResponse<T>> }): Send<T> => (o) => call(o).withResponse();
  return {
    create: (params, options) => answer(paced(ctx, api((o) => sdk().create(params, o)), options)),
    retrieve: (id, params, options) => answer(paced(ctx, api((o) => sdk().retrieve(id, params, o)), options)),
    cancel: (id, params, options) => answer(paced(ctx, api((o) => sdk().cancel(id, params, o)), options)),
    delete: (id, params, options) => answer(paced(ctx, api((o) => sdk().delete(id, params, o)), options)),
    results: async (id, params, options) => {
      const { data } = await paced(ctx, async (o) => ({ data: await sdk().results(id, params, o), response: undefined }), options, TWO);
      return data;
    },
    list: (params, options) => {
      const first = answer(paced(ctx, api((o) => sdk().list(params, o)), options));
      return Object.assign(first, {
        async *[Symbol.asyncIterator]() {
          let page: Page = await first;
          for (;;) {
            yield* page.getPaginatedItems();
            if (!page.hasNextPage()) return;
            const current = page;
            page = (await paced(ctx, async () => ({ data: await current.getNextPage(), response: undefined }), options)).data;
          }
        },
      });
    },
  };
}

/** Waits for a turn under the batch endpoints' budget, sends, and goes again after a 429 while maxWaitMs allows. */
async function paced<T>(ctx: BatchesContext, send: (options: RequestOptions) => Promise<{ data: T; response: Response | undefined }>, options: RequestOptions | undefined, cost = ONE): Promise<WithResponse<T>> {
  if (ctx.stopped.aborted) throw ctx.stopError();
  const credential = ctx.client.apiKey ?? ctx.client.authToken ?? undefined;
  const own = options?.signal ?? undefined;
  const signal = own ? AbortSignal.any([own, ctx.stopped]) : ctx.stopped;
  const sendOptions = { ...options, maxRetries: 0, signal };
  if (!credential) return (await send(sendOptions)) as WithResponse<T>;
  const budget = await (await ctx.accounts()).batchesBudget(credential);
  const arrivedAt = Date.now();
  const aborted = () => (ctx.stopped.aborted ? ctx.stopError() : new AbortedError());
  let refused: unknown;
  for (;;) {
    const left = ctx.maxWaitMs - (Date.now() - arrivedAt);
    if (signal.aborted) throw aborted();
    if (left <= 0 || !(await reserve(budget, signal, left))) {
      if (signal.aborted) throw aborted();
      throw new RateLimitWaitError(Date.now() - arrivedAt, refused);
    }
    try {
      const { data, response } = await send(sendOptions);
      if (response) await budget.observe(parseRateLimitHeaders(response.headers));
      return { data, response: response as Response };
    } catch (err) {
      const action = classifyFailure(err);
      const limits = parseRateLimitHeaders(err instanceof APIError ? err.headers : undefined);
      if (action.kind === 'rate-limited') {
        await budget.refund(cost, { request: true });
        await budget.onRateLimited(action.retryAfterMs, limits);
        refused = err;
        continue;
      }
      if (action.kind === 'aborted') throw aborted();
      if (action.kind === 'stop') {
        const stop = new StoppedError(action.reason, action.message, { cause: err });
        ctx.onStop(stop);
        throw stop;
      }
      throw err;
    }
  }

  async function reserve(b: ClassBudget, s: AbortSignal, ms: number): Promise<boolean> {
    const hold = new AbortController();
    const stop = () => hold.abort();
    const timer = setTimeout(stop, ms);
    s.addEventListener('abort', stop, { once: true });
    try {
      return await b.reserve(cost, hold.signal);
    } finally {
      clearTimeout(timer);
      s.removeEventListener('abort', stop);
    }
  }
}
