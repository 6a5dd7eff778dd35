/**
 * The simulator's HTTP server: routing, the `/_sim/*` control endpoints (so a simulator in another
 * process can be read and steered), and the `Simulator` handle.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, badRequest, notFound } from './api-error.js';
import { authenticate, keyOf } from './auth.js';
import { batchResults, cancelBatch, createBatch, deleteBatch, listBatches, retrieveBatch } from './batch-routes.js';
import { BatchStore } from './batch-store.js';
import { copyCounters, countStatus, emptyCounters, type SimulatorCounters } from './counters.js';
import { nextRequestId, readJson, sendError, sendJson } from './http-io.js';
import { handleCountTokens, handleMessage } from './message-routes.js';
import { DEFAULTS, validateOptions, type ResolvedOptions, type SimulatorOptions } from './options.js';
import { seededRandom, seedOrRandom } from './random.js';
import { PromptCache } from './prompt-cache.js';
import { Organizations, tenancyHeaders } from './organizations.js';
import { admitBatchCall } from './batch-limit.js';
import type { SimulatorState } from './state.js';
import { startUnseenTraffic } from './unseen-traffic.js';

export interface Simulator {
  /** e.g. `http://127.0.0.1:43121` (no trailing slash): use it as ANTHROPIC_BASE_URL. */
  url: string;
  port: number;
  counters(): SimulatorCounters;
  resetCounters(): void;
  /** Changes limits and faults while running (`port` and `host` are fixed once listening). */
  setOptions(patch: Partial<SimulatorOptions>): void;
  /** Evicts every prompt-cache entry, as a cache that expires mid-run would. */
  flushCache(): void;
  /** Ends every batch still in progress now (their results become readable); returns how many. */
  endBatches(): number;
  /** Stops listening and destroys open keep-alive sockets. */
  close(): Promise<void>;
}

const BATCH_PATH = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/;

const LIMIT_OPTIONS = ['rpm', 'itpm', 'otpm', 'classLimits', 'tier', 'burstSeconds', 'otpmRule', 'organizations'];

/** Merges a patch; an option set to undefined (or null, over HTTP) goes back to its default. */
function applyOptions(state: SimulatorState, rawPatch: Partial<SimulatorOptions>): void {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawPatch)) patch[k] = v === null ? undefined : v;
  validateOptions(patch);
  const next: Record<string, unknown> = { ...state.options };
  for (const [k, v] of Object.entries(patch)) next[k] = v === undefined ? DEFAULTS[k as keyof ResolvedOptions] : v;
  state.options = next as ResolvedOptions;
  if (LIMIT_OPTIONS.some((name) => name in patch)) state.organizations.configure(state.options);
  if ('unseenTraffic' in patch) restartUnseenTraffic(state);
  if ('seed' in patch) state.random = seededRandom(seedOrRandom(state.options.seed));
  if ('spendLimitAfter' in patch) state.spendUsed = 0;
  if ('billingRefusalAfter' in patch) state.billingUsed = 0;
  if ('failBatchCreates' in patch) state.createCallsSinceFailSet = 0;
}

function restartUnseenTraffic(state: SimulatorState): void {
  state.stopUnseenTraffic?.();
  state.stopUnseenTraffic = state.options.unseenTraffic ? startUnseenTraffic(state, state.options.unseenTraffic) : undefined;
}

async function control(state: SimulatorState, method: string, path: string, req: IncomingMessage, res: ServerResponse, rid: string) {
  if (method === 'GET' && path === '/_sim/counters') return sendJson(res, 200, { ...copyCounters(state.counters), inFlight: state.inFlight }, rid);
  if (method === 'POST' && path === '/_sim/reset-counters') {
    resetCounters(state);
    return sendJson(res, 200, { ok: true }, rid);
  }
  if (method === 'POST' && path === '/_sim/options') {
    const body = await readJson(req, 1024 * 1024);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: must be a JSON object of options');
    // Actions, not options: `{"flushCache": true}` evicts the prompt cache; `{"endBatches": true}`
    // ends every batch in progress (the answer says how many).
    const { flushCache, endBatches, ...patch } = body as Partial<SimulatorOptions> & { flushCache?: unknown; endBatches?: unknown };
    for (const [name, value] of [['flushCache', flushCache], ['endBatches', endBatches]] as const) {
      if (value !== undefined && typeof value !== 'boolean') throw badRequest(`${name}: expected true or false, got \`${JSON.stringify(value)}\``);
    }
    try {
      applyOptions(state, patch);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    if (flushCache) state.cache.flush();
    if (endBatches) return sendJson(res, 200, { ok: true, batchesEnded: state.batches.endAll(Date.now()) }, rid);
    return sendJson(res, 200, { ok: true }, rid);
  }
  throw notFound(`${method} ${path}: no such simulator control endpoint`);
}

function resetCounters(state: SimulatorState): void {
  state.counters = emptyCounters();
  state.counters.peakInFlight = state.inFlight;
}

async function route(state: SimulatorState, req: IncomingMessage, res: ServerResponse, rid: string) {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://simulator');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  if (path.startsWith('/_sim/')) return control(state, method, path, req, res, rid);
  // Every answer to a key the API accepts names its organization (and workspace), errors included.
  const key = keyOf(req);
  if (key !== undefined && !state.options.rejectKeys.includes(key)) {
    for (const [name, value] of Object.entries(tenancyHeaders(state.organizations.of(key)))) res.setHeader(name, value);
  }
  if (path === '/v1/messages' && method === 'POST') return handleMessage(state, req, res, rid);
  const known = path === '/v1/messages/count_tokens' || path === '/v1/messages/batches' || BATCH_PATH.test(path);
  if (!known) throw notFound(`${method} ${path}: no such endpoint`);
  authenticate(req, state.options.rejectKeys);
  // The results_url must be absolute and reachable the way this client reached us.
  const origin = `http://${req.headers.host ?? `${state.options.host}:${state.options.port}`}`;
  if (path === '/v1/messages/count_tokens' && method === 'POST') return handleCountTokens(state, req, res, rid);
  if (!admitBatchCall(state, state.organizations.of(key!).organization, res, rid)) return;
  if (path === '/v1/messages/batches') {
    if (method === 'POST') return createBatch(state, req, res, rid, origin);
    if (method === 'GET') return listBatches(state, url.searchParams, res, rid, origin);
  }
  const [, id, action] = BATCH_PATH.exec(path) ?? [];
  if (id && !action && method === 'GET') return retrieveBatch(state, id, res, rid, origin);
  if (id && !action && method === 'DELETE') return deleteBatch(state, id, res, rid);
  if (id && action === '/cancel' && method === 'POST') return cancelBatch(state, id, res, rid, origin);
  if (id && action === '/results' && method === 'GET') return batchResults(state, id, res, rid);
  throw notFound(`${method} ${path}: no such endpoint`);
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(options);
  const resolved = { ...DEFAULTS } as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) resolved[k] = v;
  const seed = seedOrRandom(options.seed);
  const cache = new PromptCache();
  const state: SimulatorState = {
    options: resolved as ResolvedOptions,
    counters: emptyCounters(),
    organizations: new Organizations(),
    batches: new BatchStore(seed, cache),
    cache,
    random: seededRandom(seed),
    inFlight: 0,
    spendUsed: 0,
    billingUsed: 0,
    createCallsSinceFailSet: 0,
    batchBuckets: new Map(),
  };
  state.organizations.configure(state.options);
  restartUnseenTraffic(state);

  const server = createServer((req, res) => {
    const rid = nextRequestId();
    route(state, req, res, rid).catch((err: unknown) => {
      const apiError =
        err instanceof ApiError ? err : new ApiError(500, 'api_error', `simulator internal error: ${(err as Error)?.message ?? err}`);
      countStatus(state.counters, apiError.status);
      if (!res.headersSent && !res.destroyed) sendError(res, apiError, rid);
      else res.destroy();
    });
  });
  // Longer than any client's idle keep-alive, so the server never closes a socket a client is
  // about to reuse (that race would look like a dropped connection).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(state.options.port, state.options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = state.options.host.includes(':') ? `[${state.options.host}]` : state.options.host;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    counters: () => copyCounters(state.counters),
    resetCounters: () => resetCounters(state),
    setOptions: (patch) => applyOptions(state, patch),
    flushCache: () => state.cache.flush(),
    endBatches: () => state.batches.endAll(Date.now()),
    close: () =>
      new Promise<void>((resolve, reject) => {
        state.stopUnseenTraffic?.();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
