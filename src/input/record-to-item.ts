/**
 * Turns one input record into Messages params, checking everything the API would reject so a bad
 * line 90,000 fails before the first request. Problems are thrown as `RecordProblem` (a sentence);
 * the reader adds the file and line.
 *
 * JSONL records come in two shapes (DESIGN.md "Data formats"):
 * - Batch request shape `{"custom_id", "params": {...Messages params}}`
 * - Flat shape `{"custom_id"?, "prompt"? | "messages"?, "system"?, "model"?, "max_tokens"?, ...}`,
 *   where every key but custom_id and prompt is passed through as a Messages parameter. Only
 *   Messages parameters are allowed there: the API answers an unknown one (a typo like `modle`)
 *   with a 400 for every item, so it is caught here instead (docs/input.md). Which keys those are
 *   comes from the SDK's types, checked at build time (MESSAGES_PARAM_KEYS).
 */
import type { MessageCreateParamsBase as BetaMessageCreateParamsBase } from '@anthropic-ai/sdk/resources/beta/messages/messages';
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages/messages';
import type { MessageParams } from '../types.js';
import { quoted, shortened } from '../quote.js';
import { closestName } from './did-you-mean.js';
import { schemaProblem } from '../structured/schema.js';

export class RecordProblem extends Error {}

/** What flags and config supply for records that lack them. */
export interface ItemDefaults {
  model?: string;
  max_tokens?: number;
  system?: string;
  /** `--schema` / config `schema:`: the JSON Schema answers must follow, for records that set none. */
  schema?: Record<string, unknown>;
}

/** A record's params and the custom_id it names (undefined: derive one from its position). */
export interface ConvertedRecord {
  customId: string | undefined;
  params: MessageParams;
}

type Json = Record<string, unknown>;

/** The request parameters the SDK types for `client.messages.create` (SDK 1.14: `MessageCreateParamsBase`). */
type SdkParamKey = keyof MessageCreateParamsBase;

/**
 * Every Messages API request parameter, as the SDK types them. The build fails when this list and the
 * SDK drift apart: `satisfies` refuses a key the SDK does not have, and `sdkKeysAllListed` below
 * refuses to compile while the SDK has a key this list lacks, naming it. So upgrading the SDK is what
 * lets a new parameter through (`inference_geo`, a top-level `cache_control`). `user_profile_id` and
 * `workspace_id` are header parameters: the SDK sends them as headers on a real-time request.
 * `stream` is here too; completeParams refuses it unless false.
 */
export const MESSAGES_PARAM_KEYS = [
  'model',
  'max_tokens',
  'messages',
  'system',
  'cache_control',
  'container',
  'diagnostics',
  'inference_geo',
  'metadata',
  'output_config',
  'service_tier',
  'speed',
  'stop_sequences',
  'stream',
  'thinking',
  'tool_choice',
  'tools',
  'user_profile_id',
  'workspace_id',
] as const satisfies readonly SdkParamKey[];

/**
 * Parameters the API still accepts that the SDK no longer types: the sampling parameters. Opus 4.6,
 * Sonnet 4.6, Haiku 4.5 and the models before them take them; Opus 4.7 and later, Sonnet 5 and later,
 * Haiku 5.5 and the Fable and Mythos models answer a non-default value with a 400, which the API
 * reports per item. Checked as well: should the SDK type one again, the build asks to move it up.
 */
export const UNTYPED_PARAM_KEYS = ['temperature', 'top_p', 'top_k'] as const;

/**
 * Parameters the SDK types only for `client.beta.messages.create` (`mcp_servers`, `context_management`,
 * `output_format`, ...). They need an `anthropic-beta` header, which claw-batch does not send, so a
 * flat record with one is refused with that reason. The build fails when one of them is no longer
 * beta-only, so it moves to MESSAGES_PARAM_KEYS.
 */
export const BETA_ONLY_PARAM_KEYS = [
  'betas',
  'billing_policy',
  'compaction',
  'context_management',
  'fallback_credit_token',
  'fallbacks',
  'mcp_servers',
  'output_format',
  'thread',
] as const satisfies readonly Exclude<keyof BetaMessageCreateParamsBase, SdkParamKey>[];

type Unlisted = Exclude<SdkParamKey, (typeof MESSAGES_PARAM_KEYS)[number]>;
type Retyped = Extract<(typeof UNTYPED_PARAM_KEYS)[number], SdkParamKey>;
/** Compiles only while every SDK parameter is listed and no untyped one is typed again; else the error names them. */
const sdkKeysAllListed: [Unlisted, Retyped] extends [never, never] ? true : { unlisted: Unlisted; retyped: Retyped } = true as const;

/** The keys a flat record may hold: custom_id, prompt, and the Messages API's request parameters. */
export const FLAT_RECORD_KEYS: readonly string[] = ['custom_id', 'prompt', 'schema', ...MESSAGES_PARAM_KEYS, ...UNTYPED_PARAM_KEYS];

const BATCH_RECORD_KEYS = ['custom_id', 'params'] as const;

export function jsonRecordToParams(value: unknown, idField: string | undefined, defaults: ItemDefaults): ConvertedRecord {
  if (!isObject(value)) throw new RecordProblem(`expected a JSON object, got ${kind(value)}`);
  if ('params' in value) return batchShape(value, idField, defaults);
  const body: Json = { ...value };
  const customId = takeId(body, idField ?? 'custom_id', idField);
  if (idField) delete body.custom_id;
  checkFlatKeys(body, idField);
  return { customId, params: completeParams(body, defaults) };
}

function batchShape(record: Json, idField: string | undefined, defaults: ItemDefaults): ConvertedRecord {
  const { params } = record;
  if (!isObject(params)) throw new RecordProblem(`"params" must be an object of Messages parameters, got ${kind(params)}`);
  const body: Json = { ...params };
  const top: Json = { ...record };
  delete top.params;
  let customId: string | undefined;
  if (idField && !(idField in top)) customId = takeId(body, idField, idField);
  else customId = takeId(top, idField ?? 'custom_id', idField);
  if (idField) delete top.custom_id;
  const extra = Object.keys(top);
  if (extra.length > 0) {
    const known = idField ? [...BATCH_RECORD_KEYS, idField] : BATCH_RECORD_KEYS;
    throw new RecordProblem(
      `unexpected key ${withSuggestion(extra[0]!, known)} next to "params": the batch request shape is {"custom_id", "params"}` +
        ' (Messages parameters go inside "params")',
    );
  }
  return { customId, params: completeParams(body, defaults) };
}

/** Fails on keys the Messages API would reject, naming each with the closest known key. */
function checkFlatKeys(body: Json, idField: string | undefined): void {
  const known: readonly string[] = idField ? [...FLAT_RECORD_KEYS, idField] : FLAT_RECORD_KEYS;
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const beta = unknown.find((k) => (BETA_ONLY_PARAM_KEYS as readonly string[]).includes(k));
  if (beta !== undefined) {
    throw new RecordProblem(
      `${JSON.stringify(beta)} is a beta Messages parameter: it needs an anthropic-beta header, which claw-batch does not send, so the API would reject the request`,
    );
  }
  const named = unknown.map((k) => withSuggestion(k, known)).join(', ');
  const [keys, what] = unknown.length === 1 ? ['key', 'not a Messages API parameter'] : ['keys', 'not Messages API parameters'];
  throw new RecordProblem(`unknown ${keys} ${named}: ${what}, so the API would reject the request`);
}

function withSuggestion(key: string, known: readonly string[]): string {
  const guess = closestName(key, known);
  return `${quoted(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`;
}

/** Removes the id field from `obj` and returns its value as a custom_id. */
function takeId(obj: Json, field: string, idField: string | undefined): string | undefined {
  const raw = obj[field];
  delete obj[field];
  if (raw === undefined || raw === null) {
    if (idField) throw new RecordProblem(`no ${quoted(idField)} field (named by --id-field) to take the custom_id from`);
    return undefined;
  }
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  throw new RecordProblem(`${field} must be a string, got ${kind(raw)}`);
}

/**
 * Builds the final params from a body: `prompt` becomes the user message, defaults fill what is
 * missing, and the fields every request needs are checked. Used for JSONL and CSV records alike.
 */
export function completeParams(body: Json, defaults: ItemDefaults, source: 'jsonl' | 'csv' = 'jsonl'): MessageParams {
  const hasPrompt = body.prompt !== undefined;
  const hasMessages = body.messages !== undefined;
  if (hasPrompt && hasMessages) throw new RecordProblem('has both "prompt" and "messages": give one of them');
  if (!hasPrompt && !hasMessages) {
    throw new RecordProblem('no prompt: give "prompt": "..." or "messages": [{"role": "user", "content": "..."}]');
  }
  if (hasPrompt) {
    const { prompt } = body;
    if (typeof prompt !== 'string') throw new RecordProblem(`"prompt" must be a string, got ${kind(prompt)}`);
    if (prompt.trim() === '') throw new RecordProblem('"prompt" is empty');
    delete body.prompt;
    body.messages = [{ role: 'user', content: prompt }];
  } else {
    checkMessages(body.messages);
  }

  const modelFromDefaults = body.model === undefined || body.model === null;
  if (modelFromDefaults) body.model = defaults.model;
  if (body.max_tokens === undefined || body.max_tokens === null) body.max_tokens = defaults.max_tokens;
  if ((body.system === undefined || body.system === null) && defaults.system !== undefined) body.system = defaults.system;
  else if (body.system === null) delete body.system;

  applySchema(body, defaults);
  checkRequiredPresent(body, source);
  if (typeof body.model !== 'string' || body.model.trim() === '') {
    throw new RecordProblem(`"model" must be a non-empty string, got ${kind(body.model)}`);
  }
  if (body.model.length > MAX_MODEL_CHARS) {
    // The API's model names are a few dozen characters; this one would only fill error lines.
    const from = modelFromDefaults ? ' (from --model, CLAW_BATCH_MODEL or the config)' : '';
    throw new RecordProblem(`"model"${from} is ${body.model.length.toLocaleString('en-US')} characters long (${quoted(body.model)}); model names have at most ${MAX_MODEL_CHARS}`);
  }
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw new RecordProblem(`"max_tokens" must be a positive whole number, got ${kind(body.max_tokens)}`);
  }
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    throw new RecordProblem(`"system" must be a string or a list of text blocks, got ${kind(body.system)}`);
  }
  if (body.stream !== undefined && body.stream !== false) {
    throw new RecordProblem('"stream" is not supported: claw-batch collects whole messages');
  }
  return body as unknown as MessageParams;
}

/**
 * A flat record's own `schema`, else the default one, becomes `output_config.format` (the Messages
 * API's structured outputs) unless the record sets `output_config.format` itself. Whichever schema
 * the item ends with must compile, so a bad one fails here, before anything is sent.
 */
function applySchema(body: Json, defaults: ItemDefaults): void {
  const own = body.schema;
  delete body.schema;
  const config = isObject(body.output_config) ? body.output_config : undefined;
  if (own !== undefined && config?.format !== undefined && config.format !== null) {
    throw new RecordProblem('has both "schema" and "output_config.format": give one of them');
  }
  const schema = own ?? (config?.format === undefined ? defaults.schema : undefined);
  if (schema !== undefined) body.output_config = { ...config, format: { type: 'json_schema', schema } };
  const format = isObject(body.output_config) ? body.output_config.format : undefined;
  if (isObject(format) && format.type === 'json_schema') {
    const problem = schemaProblem(format.schema);
    if (problem) throw new RecordProblem(`${own !== undefined ? '"schema"' : '"output_config.format.schema"'}: ${problem}`);
  }
}

/** Names every missing required parameter at once, so a user fixes them in one go rather than one per try. */
/** Longer than any model name the API has or is likely to have (they are some 20-40 characters). */
const MAX_MODEL_CHARS = 256;

function checkRequiredPresent(body: Json, source: 'jsonl' | 'csv'): void {
  const missing = [
    { key: 'model', flag: '--model' },
    { key: 'max_tokens', flag: '--max-tokens' },
  ].filter(({ key }) => body[key] === undefined);
  if (missing.length === 0) return;
  const and = (xs: string[]) => xs.join(' and ');
  const keys = missing.map((m) => m.key);
  // A CSV row has no place for them, so only the flags and the config are offered there.
  const inRecord = source === 'jsonl' ? `set ${and(keys.map((k) => JSON.stringify(k)))} in the record, ` : '';
  throw new RecordProblem(
    `${and(keys.map((k) => `no ${k}`))}: give ${and(missing.map((m) => m.flag))}, ${inRecord}` +
      `or set ${missing.length === 1 ? 'it' : 'them'} in the config`,
  );
}

function checkMessages(messages: unknown): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new RecordProblem(`"messages" must be a non-empty list, got ${kind(messages)}`);
  }
  messages.forEach((m: unknown, i) => {
    if (!isObject(m)) throw new RecordProblem(`messages[${i}] must be an object, got ${kind(m)}`);
    if (m.role !== 'user' && m.role !== 'assistant') {
      const hint = m.role === 'system' ? ' (put the system prompt in "system")' : '';
      throw new RecordProblem(`messages[${i}].role must be "user" or "assistant", got ${kind(m.role)}${hint}`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw new RecordProblem(`messages[${i}].content must be a string or a list of blocks, got ${kind(m.content)}`);
    }
  });
  if ((messages[0] as Json).role !== 'user') {
    throw new RecordProblem('messages[0].role is "assistant": the first message must be from the user');
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a value for "got ..." in messages. */
export function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? quoted(v, 40) : shortened(JSON.stringify(v), 40);
}
