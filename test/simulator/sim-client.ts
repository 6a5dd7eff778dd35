/** Shared by the simulator tests: the real SDK pointed at a simulator, and small request makers. */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { Simulator } from '../../src/simulator/index.js';

export const MODEL = 'claude-haiku-4-5';

export function sdk(sim: Simulator, apiKey = 'test-key'): Anthropic {
  return new Anthropic({ apiKey, baseURL: sim.url, maxRetries: 0 });
}

export function params(prompt: string, maxTokens = 64): Anthropic.MessageCreateParamsNonStreaming {
  return { model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: prompt }] };
}

/** Runs a promise to completion and returns the error it rejected with (or fails). */
export async function rejection(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (err) {
    return err as APIError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function rawPost(sim: Simulator, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
