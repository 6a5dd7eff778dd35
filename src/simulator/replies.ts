/**
 * The simulator's answers are pure functions of the prompt, so a test can compute what each
 * custom_id must have received, and a mix-up between items shows as a wrong reply.
 */
import { createHash } from 'node:crypto';
import { cacheCreationTokens, uncachedPlan, type CachePlan } from './prompt-cache.js';
import { countTokens } from './prompt-layout.js';

export { countTokens } from './prompt-layout.js';

/** The parts of Messages params the simulator reads. Accepts `MessageCreateParams` as is. */
export interface PromptParams {
  model?: unknown;
  max_tokens?: unknown;
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
  cache_control?: unknown;
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
  stop_reason: 'end_turn';
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

/** The reply text: a short hash of the prompt and an echo of the start of its first message. */
export function replyText(params: PromptParams): string {
  return replyTextFor(params, promptKey(params));
}

function replyTextFor(params: PromptParams, key: string): string {
  const first = messagesOf(params)[0];
  const echo = textOf(first?.content).replace(/\s+/g, ' ').trim().slice(0, 60);
  return `Simulated reply ${key.slice(0, 8)} to: ${echo}`;
}

/** Output tokens for the reply: ceil(length / 4), at least 1, never more than `max_tokens`. */
export function outputTokens(params: PromptParams, text = replyText(params)): number {
  const maxTokens = typeof params.max_tokens === 'number' ? params.max_tokens : Infinity;
  return Math.max(1, Math.min(maxTokens, Math.ceil(text.length / 4)));
}

export interface ReplyOptions {
  /** How the input splits over the cache (see prompt-cache.ts). Default: all plain input. */
  cache?: CachePlan;
  /** The prompt's `promptKey`, when the caller has it already. */
  key?: string;
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
  const text = replyTextFor(params, key);
  return {
    id: `msg_sim${key}`,
    type: 'message',
    role: 'assistant',
    model: String(params.model),
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: usageOf(options.cache ?? uncachedPlan(countTokens(params)), outputTokens(params, text)),
  };
}
