/**
 * Builds the one SDK client every command uses. `maxRetries: 0`: the scheduler (real-time) and the
 * poller (batches) own every retry, so a 429 can pause all workers at once and `retry-after` is
 * honoured exactly (DESIGN.md, "One retry loop").
 */
import Anthropic from '@anthropic-ai/sdk';
import { baseUrlFromEnv } from './base-url.js';
import { MissingApiKeyError } from './errors.js';
import { registerSecret } from './secrets.js';

export interface ClientOptions {
  /** API key. Default: `ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** Base URL. Default: `ANTHROPIC_BASE_URL` (checked: src/base-url.ts), else the SDK's default (https://api.anthropic.com). */
  baseURL?: string;
  /** Per-request timeout in ms. Default: 10 minutes, the SDK's own default for non-streaming calls. */
  timeoutMs?: number;
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

export function createClient(options: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): Anthropic {
  const apiKey = options.apiKey ?? env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new MissingApiKeyError();
  registerSecret(apiKey);
  // Given explicitly: left undefined, the SDK would read process.env itself, not `env`.
  const baseURL = options.baseURL ?? baseUrlFromEnv(env) ?? DEFAULT_BASE_URL;
  return new Anthropic({
    apiKey,
    baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 10 * 60 * 1000,
    // The SDK logs request options at debug level; keep it quiet so a key can never leak there.
    logLevel: 'off',
  });
}
