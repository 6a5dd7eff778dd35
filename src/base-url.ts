/**
 * `ANTHROPIC_BASE_URL`, checked before anything is sent. Without a scheme (`127.0.0.1:4010`) the
 * SDK fails every request with "Invalid URL" — or, for `localhost:4010`, which parses as a URL of
 * scheme `localhost:`, with a fetch error — and each item would be written as errored. A bad value
 * is a configuration error instead: exit 2, naming the variable.
 */
import { UsageError } from './errors.js';
import { quoted } from './quote.js';

export const BASE_URL_VARIABLE = 'ANTHROPIC_BASE_URL';

/** The base URL the environment gives (undefined: the SDK's default); throws UsageError when it is malformed. */
export function baseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env[BASE_URL_VARIABLE];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  if (!/^https?:\/\//i.test(value)) {
    const fixed = suggestedBaseUrl(value);
    const hint = fixed ? ` (did you mean ${quoted(fixed)}?)` : '';
    throw new UsageError(`${BASE_URL_VARIABLE} must start with http:// or https://, got ${quoted(value)}${hint}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${BASE_URL_VARIABLE} is not a valid URL: ${quoted(value)}`);
  }
  if (url.hostname === '') throw new UsageError(`${BASE_URL_VARIABLE} names no host: ${quoted(value)}`);
  return value;
}

/** What a scheme-less or mistyped value probably meant: `http:/h` → `http://h`, `h:1` → `http://h:1`. */
function suggestedBaseUrl(value: string): string | undefined {
  const typo = /^(https?):\/*(.*)$/i.exec(value);
  if (typo) return `${typo[1]!.toLowerCase()}://${typo[2]}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined; // another scheme: no guess
  return `http://${value}`;
}

