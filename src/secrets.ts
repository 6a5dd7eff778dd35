/**
 * The API key must never reach a terminal, a log or a file. Every message that leaves the process
 * through `src/main.ts` or the UI passes through `redact()`.
 */
const secrets = new Set<string>();

/** Registers a value (an API key) that must never be printed. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret, and anything shaped like an Anthropic key, with a mask. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out.replace(/sk-ant-[A-Za-z0-9_-]{8,}/g, 'sk-ant-[redacted]');
}
