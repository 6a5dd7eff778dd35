/**
 * The size of a request's prompt in characters: the text of `system` and of every message (string
 * content or text blocks). The plan layer turns it into a token estimate for ETA and cost.
 */
import type { MessageParams } from '../types.js';

export function promptChars(params: MessageParams): number {
  let n = textChars(params.system);
  for (const message of params.messages ?? []) n += textChars(message?.content);
  return n;
}

function textChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const block of content) {
    if (block && typeof block === 'object' && (block as { type?: unknown }).type === 'text') {
      const text = (block as { text?: unknown }).text;
      if (typeof text === 'string') n += text.length;
    }
  }
  return n;
}
