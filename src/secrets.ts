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

/** A URL with its password replaced by `***` (`redis://:***@host:6379/0`), for messages. */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    let changed = false;
    if (u.password) {
      u.password = '***';
      changed = true;
    }
    // `?password=…` (some clients read one there) is as secret as the userinfo.
    for (const name of [...u.searchParams.keys()]) {
      if (/^pass(word)?$/i.test(name)) {
        u.searchParams.set(name, '***');
        changed = true;
      }
    }
    return changed ? u.toString() : url;
  } catch {
    // Not a URL (a password with an unencoded "/" or "@" makes it none): mask whatever sits
    // between "//user:" and the last "@", and any password= parameter.
    return url.replace(/\/\/([^:@/]*):.*@/, '//$1:***@').replace(/([?&]pass(?:word)?=)[^&#]*/gi, '$1***');
  }
}
