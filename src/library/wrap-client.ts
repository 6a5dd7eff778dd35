/**
 * `wrapClient(new Anthropic(), options)`: the caller's own SDK client, with `messages.create`,
 * `messages.stream` and `messages.batches.*` (paced-batches.ts) paced by the budgets `claw-batch run` and `claw-batch proxy` use — the same
 * store (`local`, Redis), the same keying (the key's fingerprint, then its organization's account
 * once an answer names it), the same lanes (src/proxy/accounts.ts, message-lane.ts). Nothing is
 * opened until the first call: wrapping a client, like importing the package, leaves no handle.
 */
import { setMaxListeners } from 'node:events';
import type Anthropic from '@anthropic-ai/sdk';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import type { StoppedError } from '../errors.js';
import { BATCHES_CLASS } from '../limits/model-class.js';
import { openLimitStore } from '../limits/open-store.js';
import { Accounts } from '../proxy/index.js';
import { registerSecret } from '../secrets.js';
import { resolveOptions, type ResolvedOptions, type WrapClientOptions } from './options.js';
import { pacedBatches, type PacedBatches } from './paced-batches.js';
import { closedError, PacedCall, pacedPromise, type PacedPromise, type WithResponse } from './paced-call.js';

type Messages = Anthropic['messages'];
type RequestOptions = NonNullable<Parameters<Messages['create']>[1]>;
type Message = Anthropic.Messages.Message;
type NonStreaming = Anthropic.Messages.MessageCreateParamsNonStreaming;
type Streaming = Anthropic.Messages.MessageCreateParamsStreaming;
type Base = Anthropic.Messages.MessageCreateParams;
type EventStream = Awaited<ReturnType<Messages['create']>> & AsyncIterable<Anthropic.Messages.RawMessageStreamEvent>;

export type { PacedPromise } from './paced-call.js';

export interface PacedMessages {
  /** As the SDK's `messages.create`, paced: waits for its turn under the account's limits, never 429s on a pause. */
  create(params: NonStreaming, options?: RequestOptions): PacedPromise<Message>;
  create(params: Streaming, options?: RequestOptions): PacedPromise<Extract<EventStream, { controller: AbortController }>>;
  create(params: Base, options?: RequestOptions): PacedPromise<Message | Extract<EventStream, { controller: AbortController }>>;
  /** As the SDK's `messages.stream` (a MessageStream with its events and `finalMessage()`), paced. */
  stream(params: Base, options?: RequestOptions): MessageStream;
  /** As the SDK's, paced by the Message Batches endpoints' own request limit (not the Messages limits). */
  readonly batches: PacedBatches;
}

export interface PacedClient {
  /** The SDK client it sends with (unpaced: use it for what is not wrapped). */
  readonly client: Anthropic;
  readonly messages: PacedMessages;
  /**
   * Stops: every call not yet answered (waiting for its turn, or sent and still streaming) fails
   * with ClientClosedError, the heartbeats stop and the store closes. Idempotent.
   */
  close(): Promise<void>;
}

/** Wraps `client` (its key, base URL, headers and timeout are used as they are). Options are checked at once. */
export function wrapClient(client: Anthropic, options: WrapClientOptions = {}): PacedClient {
  return new Wrapped(client, resolveOptions(options));
}

class Wrapped implements PacedClient {
  readonly messages: PacedMessages;
  /** Every call's signal follows this one: as many listeners as calls in flight, not a leak. */
  private readonly stop = withoutListenerLimit(new AbortController());
  private stopReason: Error | undefined;
  private accounts: Promise<Accounts> | undefined;
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => this.halt(closedError('aborted'));

  constructor(
    readonly client: Anthropic,
    private readonly options: ResolvedOptions,
  ) {
    registerSecret(client.apiKey);
    registerSecret(client.authToken);
    if (options.signal?.aborted) this.halt(closedError('aborted'));
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
    const create = (params: Base, requestOptions?: RequestOptions) => this.create(params, requestOptions);
    const messages = {
      create,
      batches: pacedBatches({
        client,
        accounts: () => this.open(),
        maxWaitMs: options.maxWaitMs,
        stopped: this.stop.signal,
        stopError: () => this.stopReason!,
        onStop: (error: StoppedError) => this.halt(error),
      }),
      stream: (params: Base, requestOptions?: RequestOptions) =>
        // MessageStream calls `create({ ...params, stream: true }).withResponse()` on what it is given.
        MessageStream.createMessage(messages as unknown as Messages, params, requestOptions),
    };
    this.messages = messages as unknown as PacedMessages;
  }

  private create(params: Base, requestOptions?: RequestOptions): PacedPromise<unknown> {
    return pacedPromise(this.call(params, requestOptions));
  }

  private async call(params: Base, requestOptions?: RequestOptions): Promise<WithResponse<unknown>> {
    if (this.stop.signal.aborted) throw this.stopReason!;
    const credential = this.client.apiKey ?? this.client.authToken ?? undefined;
    if (!credential || typeof params?.model !== 'string') {
      // Nothing to pace by (no key to know the account, no model to know the class): the API refuses these at once.
      return this.client.messages.create(params, { ...requestOptions, maxRetries: 0 }).withResponse();
    }
    const accounts = await this.open();
    const lane = await accounts.lane(credential, params.model);
    if (this.stop.signal.aborted) throw this.stopReason!;
    return new PacedCall(
      {
        client: this.client,
        accounts,
        lane,
        name: this.options.name,
        maxWaitMs: this.options.maxWaitMs,
        stopped: this.stop.signal,
        stopError: () => this.stopReason!,
        onStop: (error: StoppedError) => this.halt(error),
      },
      params,
      requestOptions,
    ).run();
  }

  /** The store and the lanes, on first use. */
  private open(): Promise<Accounts> {
    this.accounts ??= (async () => {
      const { options } = this;
      const store = await openLimitStore({
        sharedLimits: options.sharedLimits,
        source: options.sharedLimitsSource,
        stateDir: options.stateDir,
        onNotice: options.onNotice,
      });
      const given = { all: options.limits, byClass: { [BATCHES_CLASS]: { rpm: options.batchRpm } } };
      return new Accounts({ store, upstream: this.client.baseURL, given, command: 'library' });
    })();
    return this.accounts;
  }

  /** Every call still waiting fails with `reason`; later calls too. */
  private halt(reason: Error): void {
    if (this.stop.signal.aborted) return;
    this.stopReason = reason;
    this.stop.abort(reason);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.halt(closedError('closed'));
      this.options.signal?.removeEventListener('abort', this.onAbort);
      const accounts = await this.accounts?.catch(() => undefined);
      if (!accounts) return;
      await accounts.close();
      await accounts.store.close().catch(() => undefined);
    })();
    return this.closing;
  }
}

function withoutListenerLimit(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
