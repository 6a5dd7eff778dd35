/**
 * Splits a stream of items into Message Batches: at most 100,000 requests and at most 256 MB of
 * create body each. The body is measured as it is built (each request serialized once), so a batch
 * never goes over the API's limit, and only one chunk's requests are held in memory at a time —
 * as their JSON text, which is a fraction of the size of the parsed objects.
 * For the same input and the same selection the chunks come out the same, which is what lets a
 * rerun of an interrupted submit skip the batches that already exist.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { InputError } from '../errors.js';
import type { Item } from '../types.js';
import { parsePositiveInt } from '../options.js';
import { requestedSchema } from '../structured/answer.js';
import type { JsonSchema } from '../structured/schema.js';

export type BatchRequest = Anthropic.Messages.BatchCreateParams.Request;

export interface ChunkLimits {
  /** Requests per batch. Default and maximum: 100,000 (the API's limit). */
  maxRequests: number;
  /** Bytes of create body per batch. Default: 240 MB, headroom under the API's 256 MB. */
  maxBytes: number;
}

export const API_MAX_BATCH_REQUESTS = 100_000;
/** 256 MB less headroom for the HTTP framing and for how the API itself counts. */
export const DEFAULT_MAX_BATCH_BYTES = 240_000_000;

/**
 * The limits, lowered (never raised) by `CLAW_BATCH_MAX_BATCH_REQUESTS` / `CLAW_BATCH_MAX_BATCH_BYTES`
 * — for rehearsing a many-batch job on a small input, and for tests.
 */
export function chunkLimitsFromEnv(env: NodeJS.ProcessEnv): ChunkLimits {
  const req = parsePositiveInt('CLAW_BATCH_MAX_BATCH_REQUESTS', env.CLAW_BATCH_MAX_BATCH_REQUESTS);
  const bytes = parsePositiveInt('CLAW_BATCH_MAX_BATCH_BYTES', env.CLAW_BATCH_MAX_BATCH_BYTES);
  return {
    maxRequests: Math.min(req ?? API_MAX_BATCH_REQUESTS, API_MAX_BATCH_REQUESTS),
    maxBytes: Math.min(bytes ?? DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_BYTES),
  };
}

export interface Chunk {
  index: number;
  /** Each request (`{"custom_id":…,"params":…}`) serialized. */
  requests: string[];
  /** The custom_id of each request, in order. */
  ids: string[];
  /** Size of `{"requests":[...]}` serialized, bytes. */
  bytes: number;
  firstCustomId: string;
  lastCustomId: string;
  /**
   * The items whose answers follow another schema than the job's (an item's own `schema` or
   * `output_config.format`): custom_id -> that schema (null: none to check against). Equal schemas
   * share one object. Empty when every item follows the job's.
   */
  ownSchemas: Map<string, JsonSchema | null>;
}

/** `{"requests":[` + `]}` */
const ENVELOPE_BYTES = Buffer.byteLength('{"requests":[]}');

/** The create body of a chunk, exactly `bytes` long. */
export function chunkBody(chunk: Chunk): Buffer {
  return Buffer.from(`{"requests":[${chunk.requests.join(',')}]}`);
}

/**
 * Yields the chunks of the items that `include` accepts (all, by default). The caller must be done
 * with a chunk before asking for the next: its array is not reused, but holding several defeats the
 * bounded memory.
 */
export async function* chunkItems(
  items: AsyncIterable<Item>,
  limits: ChunkLimits,
  include: (customId: string) => boolean = () => true,
  jobSchema?: JsonSchema,
): AsyncGenerator<Chunk> {
  const jobSchemaText = jobSchema === undefined ? 'null' : JSON.stringify(jobSchema);
  let index = 0;
  let requests: string[] = [];
  let ids: string[] = [];
  let ownSchemas = new Map<string, JsonSchema | null>();
  let distinct = new Map<string, JsonSchema | null>();
  let bytes = ENVELOPE_BYTES;
  const flush = (): Chunk => {
    const chunk: Chunk = { index: index++, requests, ids, bytes, firstCustomId: ids[0]!, lastCustomId: ids[ids.length - 1]!, ownSchemas };
    requests = [];
    ids = [];
    ownSchemas = new Map();
    distinct = new Map();
    bytes = ENVELOPE_BYTES;
    return chunk;
  };
  // The default schema is one object shared by every item that lacks its own: serialized once.
  const texts = new WeakMap<JsonSchema, string>();
  const textOf = (schema: JsonSchema) => {
    let text = texts.get(schema);
    if (text === undefined) texts.set(schema, (text = JSON.stringify(schema)));
    return text;
  };
  const noteSchema = (item: Item) => {
    const schema = requestedSchema(item.params) ?? null;
    const text = schema === null ? 'null' : textOf(schema);
    if (text === jobSchemaText) return;
    if (!distinct.has(text)) distinct.set(text, schema);
    ownSchemas.set(item.custom_id, distinct.get(text)!);
  };

  for await (const item of items) {
    if (!include(item.custom_id)) continue;
    const request: BatchRequest = { custom_id: item.custom_id, params: item.params };
    const json = JSON.stringify(request);
    const size = Buffer.byteLength(json);
    if (ENVELOPE_BYTES + size > limits.maxBytes) {
      throw new InputError(
        item.source.file,
        item.source.line,
        `the request for ${item.custom_id} is ${size} bytes serialized, over the ${limits.maxBytes}-byte limit of one batch`,
      );
    }
    const separator = requests.length > 0 ? 1 : 0;
    if (requests.length >= limits.maxRequests || bytes + separator + size > limits.maxBytes) {
      yield flush();
    }
    bytes += (requests.length > 0 ? 1 : 0) + size;
    requests.push(json);
    ids.push(item.custom_id);
    noteSchema(item);
  }
  if (requests.length > 0) yield flush();
}
