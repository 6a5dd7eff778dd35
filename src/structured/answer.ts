/**
 * Checks a structured answer: the message's text must be JSON, valid under the schema the request
 * carried in `output_config.format`. The API constrains decoding to the schema, but an answer cut
 * off at max_tokens, a refusal, or a model without structured outputs still comes back as text
 * that is not the JSON asked for: those are retried, then written as `schema_error`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describeErrors, validatorFor, type JsonSchema } from './schema.js';

export type AnswerCheck = { ok: true; parsed: unknown } | { ok: false; problem: string };

/** The schema a request asks its answer to follow, or undefined for a free-text request. */
export function requestedSchema(params: object): JsonSchema | undefined {
  const format = (params as { output_config?: { format?: { type?: unknown; schema?: unknown } | null } | null }).output_config?.format;
  return format?.type === 'json_schema' && typeof format.schema === 'object' && format.schema !== null ? (format.schema as JsonSchema) : undefined;
}

/** The answer's text: its text blocks joined (structured outputs come as one text block). */
function answerText(message: Pick<Anthropic.Message, 'content'>): string {
  return (message.content ?? [])
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('');
}

export function checkAnswer(schema: JsonSchema, message: Pick<Anthropic.Message, 'content' | 'stop_reason'>): AnswerCheck {
  const text = answerText(message);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const cut = message.stop_reason === 'max_tokens' ? ' (the answer was cut off at max_tokens)' : '';
    return { ok: false, problem: `the answer is not valid JSON${cut}: ${(err as Error).message}` };
  }
  const validate = validatorFor(schema);
  if (validate(parsed)) return { ok: true, parsed };
  return { ok: false, problem: `the answer does not match the schema: ${describeErrors(validate)}` };
}
