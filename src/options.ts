/**
 * Parsing of numeric and enum flag values. Each failure names the flag and the value, e.g.
 * "Invalid value for --rpm: expected a positive number, got `abc`".
 */
import { InvalidOptionError } from './errors.js';
import { maskUrlPassword } from './secrets.js';

/** Plain decimal numbers only: `Number()` alone would take `0x10`, `1e3` and `Infinity`. */
const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;

function toNumber(raw: string | number): number {
  if (typeof raw === 'number') return raw;
  const text = String(raw).trim();
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

export function parsePositiveNumber(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidOptionError(flag, raw, 'a positive number');
  }
  return n;
}

export function parsePositiveInt(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidOptionError(flag, raw, 'a whole number >= 1');
  }
  return n;
}

export function parseNonNegativeInt(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidOptionError(flag, raw, 'a whole number >= 0');
  }
  return n;
}

export function parseNonNegativeNumber(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidOptionError(flag, raw, 'a number >= 0');
  }
  return n;
}

/** A probability in [0, 1]. */
export function parseFraction(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidOptionError(flag, raw, 'a number from 0 to 1');
  }
  return n;
}

export function parseChoice<T extends string>(flag: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new InvalidOptionError(flag, raw, `one of ${choices.join(', ')}`);
  }
  return raw as T;
}

/** A TCP port: 0 (pick a free one) to 65535. */
export function parsePort(flag: string, raw: string | undefined): number | undefined {
  const n = parseNonNegativeInt(flag, raw);
  if (n !== undefined && n > 65_535) throw new InvalidOptionError(flag, raw, 'a port from 0 to 65535');
  return n;
}

/** `local`, `off`, or a `redis://` / `rediss://` URL: where the account's budget lives. */
export function isSharedLimitsValue(raw: string): boolean {
  if (raw === 'local' || raw === 'off') return true;
  if (!/^rediss?:\/\//.test(raw)) return false;
  try {
    return new URL(raw).hostname !== '';
  } catch {
    return false;
  }
}

/** `--shared-limits` and `CLAW_BATCH_SHARED_LIMITS`; a bad value is named with any password masked. */
export function parseSharedLimits(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (!isSharedLimitsValue(value)) {
    throw new InvalidOptionError(flag, maskUrlPassword(value), 'local, off, or a redis:// or rediss:// URL');
  }
  return value;
}
