/**
 * The simulator's answers are pure functions of the prompt, so a test can compute what each
 * custom_id must have received, and a mix-up between items shows as a wrong reply.
 */
import { createHash } from 'node:crypto';
import { cacheCreationTokens, uncachedPlan, type CachePlan } from './prompt-cache.js';
import { countTokens } from './prompt-layout.js';
import { instanceOf, invalidAnswerFor, structuredSchema } from './schema-instance.js';

export { countTokens } from './prompt-layout.js';

/** The parts of Messages params the simulator reads. Accepts `MessageCreateParams` as is. */
export interface PromptParams {
  model?: unknown;
  max_tokens?: unknown;
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
  cache_control?: unknown;
  output_config?: unknown;
}

/** The usage block of a reply, in the Messages API shape. */
export interface SimulatedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** The reply message, in the Messages API shape. */
export interface SimulatedMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: { type: 'text'; text: string }[];
  stop_reason: 'end_turn' | 'max_tokens';
  stop_sequence: null;
  usage: SimulatedUsage;
}

/** Text of a `system` or message `content`: a string, or blocks (text blocks by their text). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((block: unknown) => {
      const b = block as { type?: unknown; text?: unknown };
      return b && b.type === 'text' && typeof b.text === 'string' ? b.text : JSON.stringify(block);
    })
    .join('\n');
}

function messagesOf(params: PromptParams): { role?: unknown; content?: unknown }[] {
  return Array.isArray(params.messages) ? (params.messages as { role?: unknown; content?: unknown }[]) : [];
}

/** A stable key for the prompt (system + messages), used in `successesByPrompt`: 16 hex digits. */
export function promptKey(params: PromptParams): string {
  const canonical = JSON.stringify([params.system ?? null, messagesOf(params).map((m) => [m.role, textOf(m.content)])]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/**
 * How long replies are, in output tokens: a fixed count, or a range a prompt's reply falls in
 * (picked from its `promptKey`, so the same prompt always gets the same length).
 */
export type ReplyTokens = number | { min: number; max: number };

export interface ReplyShape {
  /** Default: the header alone (`Simulated reply <key> to: <echo>`), about 20 tokens. */
  replyTokens?: ReplyTokens;
}

/** A reply before it is wrapped in a message: its text, its output tokens and why it stopped. */
export interface Reply {
  text: string;
  outputTokens: number;
  stopReason: 'end_turn' | 'max_tokens';
}

/** ≈4 characters a token, like the input count; varied by the key so replies differ in their padding too. */
const FILLER = Array.from({ length: 200 }, (_, i) => ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'tempor', 'magna', 'aliqua', 'veniam', 'nostrud', 'labore'][(i * 7) % 11]).join(' ');

function padded(header: string, length: number, key: string): string {
  if (header.length >= length) return header.slice(0, length);
  let text = `${header} `;
  let at = parseInt(key.slice(0, 4), 16) % FILLER.length;
  while (text.length < length) {
    text += FILLER.slice(at, at + (length - text.length));
    at = 0;
  }
  return text;
}

function targetTokens(replyTokens: ReplyTokens, key: string): number {
  if (typeof replyTokens === 'number') return replyTokens;
  const span = replyTokens.max - replyTokens.min + 1;
  return replyTokens.min + (parseInt(key.slice(8, 16), 16) % span);
}

function headerFor(params: PromptParams, key: string): string {
  const first = messagesOf(params)[0];
  const echo = textOf(first?.content).replace(/\s+/g, ' ').trim().slice(0, 60);
  return `Simulated reply ${key.slice(0, 8)} to: ${echo}`;
}

/**
 * The reply to `params`: it starts with `Simulated reply <8 hex of promptKey> to: <echo of the
 * first message's first 60 characters>` and is padded (or, under a target shorter than that, cut)
 * to `replyTokens` × 4 characters. A reply longer than `max_tokens` stops there with
 * `stop_reason: "max_tokens"`; `max_tokens: 0` gives an empty reply.
 */
export function replyFor(params: PromptParams, shape: ReplyShape = {}, key = promptKey(params)): Reply {
  const header = headerFor(params, key);
  const wanted = shape.replyTokens === undefined ? Math.ceil(header.length / 4) : targetTokens(shape.replyTokens, key);
  const maxTokens = typeof params.max_tokens === 'number' ? params.max_tokens : Infinity;
  const outputTokens = Math.min(wanted, maxTokens);
  const stopReason = wanted > maxTokens ? 'max_tokens' : 'end_turn';
  const text = shape.replyTokens === undefined && stopReason === 'end_turn' ? header : padded(header, outputTokens * 4, key);
  return { text, outputTokens, stopReason };
}

/** The reply text alone, e.g. to check that each custom_id got its own answer. */
export function replyText(params: PromptParams, shape: ReplyShape = {}): string {
  return replyFor(params, shape).text;
}

export interface ReplyOptions extends ReplyShape {
  /** How the input splits over the cache (see prompt-cache.ts). Default: all plain input. */
  cache?: CachePlan;
  /** The prompt's `promptKey`, when the caller has it already. */
  key?: string;
  /** A structured request gets an answer its schema refuses (see schema-instance.ts). */
  invalidStructured?: boolean;
}

/** A structured request's answer: JSON built from its schema, as long as it is (replyTokens do not pad it). */
function structuredReply(params: PromptParams, schema: Record<string, unknown>, key: string, invalid: boolean): Reply {
  const full = invalid ? invalidAnswerFor(schema, key, parseInt(key.slice(0, 2), 16)) : JSON.stringify(instanceOf(schema, key));
  const wanted = Math.max(1, Math.ceil(full.length / 4));
  const maxTokens = typeof params.max_tokens === 'number' ? params.max_tokens : Infinity;
  const outputTokens = Math.min(wanted, maxTokens);
  const stopReason = wanted > maxTokens ? 'max_tokens' : 'end_turn';
  return { text: stopReason === 'max_tokens' ? full.slice(0, outputTokens * 4) : full, outputTokens, stopReason };
}

/** The usage of a reply with `outputTokens`, its input split as `cache` says. */
export function usageOf(cache: CachePlan, outputTokens: number): SimulatedUsage {
  return {
    input_tokens: cache.inputTokens,
    cache_creation_input_tokens: cacheCreationTokens(cache),
    cache_read_input_tokens: cache.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: cache.cacheCreation5m, ephemeral_1h_input_tokens: cache.cacheCreation1h },
    output_tokens: outputTokens,
  };
}

/** The full message the simulator returns for valid params (also inside succeeded batch results). */
export function simulatedMessage(params: PromptParams, options: ReplyOptions = {}): SimulatedMessage {
  const key = options.key ?? promptKey(params);
  const schema = structuredSchema(params);
  const reply = schema ? structuredReply(params, schema, key, options.invalidStructured ?? false) : replyFor(params, options, key);
  return {
    id: `msg_sim${key}`,
    type: 'message',
    role: 'assistant',
    model: String(params.model),
    content: reply.text === '' ? [] : [{ type: 'text', text: reply.text }],
    stop_reason: reply.stopReason,
    stop_sequence: null,
    usage: usageOf(options.cache ?? uncachedPlan(countTokens(params)), reply.outputTokens),
  };
}
