/**
 * The Messages API's up-front validation, as far as a client can trip it: the same checks answer
 * `/v1/messages` with 400/404 and turn a batch request into an `errored` result.
 */
import { ApiError, badRequest, notFound } from './api-error.js';

/** Models the simulator knows: any name starting with `claude-`. */
export const isKnownModel = (model: string): boolean => model.startsWith('claude-');

/** The problem with these Messages params, or undefined when the API would accept them. */
export function checkMessageParams(params: unknown): ApiError | undefined {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return badRequest('body: must be a JSON object');
  const p = params as Record<string, unknown>;
  if (typeof p.model !== 'string' || p.model === '') return badRequest('model: Field required');
  if (p.max_tokens === undefined || p.max_tokens === null) return badRequest('max_tokens: Field required');
  // 0 is allowed: the API's cache pre-warm (writes the cache, returns no content).
  if (typeof p.max_tokens !== 'number' || !Number.isInteger(p.max_tokens) || p.max_tokens < 0) {
    return badRequest(`max_tokens: Input should be an integer greater than or equal to 0, got ${JSON.stringify(p.max_tokens)}`);
  }
  if (p.stream !== undefined && typeof p.stream !== 'boolean') return badRequest(`stream: Input should be a valid boolean, got ${JSON.stringify(p.stream)}`);
  if (p.messages === undefined || p.messages === null) return badRequest('messages: Field required');
  if (!Array.isArray(p.messages)) return badRequest('messages: Input should be a valid list');
  if (p.messages.length === 0) return badRequest('messages: at least one message is required');
  for (const [i, m] of p.messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (!msg || typeof msg !== 'object') return badRequest(`messages.${i}: Input should be an object`);
    if (msg.role !== 'user' && msg.role !== 'assistant') {
      return badRequest(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    if (typeof msg.content !== 'string' && !Array.isArray(msg.content)) {
      return badRequest(`messages.${i}.content: Field required`);
    }
  }
  if ((p.messages[0] as { role: string }).role !== 'user') return badRequest('messages: first message must use the "user" role');
  if (!isKnownModel(p.model)) return notFound(`model: ${p.model}`);
  return undefined;
}
