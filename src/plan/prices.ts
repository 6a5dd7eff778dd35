/**
 * List prices per model, from data/prices.json (read once), with the config's `prices` on top.
 * A model without a price is not an error: the plan then shows tokens only.
 *
 * Every rate is US$ per million tokens and written out per model: the cache rates are not derived
 * from the input rate, because some models depart from the usual 1.25x / 2x / 0.1x (Fable 5.1 and
 * Opus 5.5 read the cache at 0.025x and 0.05x). The file's `asOf` and `source` say when and where
 * the list was read; the config's overrides do derive the cache rates when they omit them
 * (src/config.ts, docs/config.md).
 */
import { readFileSync } from 'node:fs';

/** The five rates of one price band, in US$ per million tokens. */
export interface PriceRates {
  /** Uncached input tokens (`usage.input_tokens`). */
  inputPerMTok: number;
  /** Output tokens, thinking included (`usage.output_tokens`). */
  outputPerMTok: number;
  /** Tokens written to the cache with the default 5-minute TTL. */
  cacheWrite5mPerMTok: number;
  /** Tokens written to the cache with `ttl: "1h"`. */
  cacheWrite1hPerMTok: number;
  /** Tokens read from the cache: hits and refreshes (`usage.cache_read_input_tokens`). */
  cacheReadPerMTok: number;
}

/** A price band that replaces the base rates for requests with a long prompt. */
export interface LongPromptRates extends PriceRates {
  /**
   * A request whose prompt (input + cache writes + cache reads) is over this many tokens pays these
   * rates on every token, output included: Haiku 5.5 over 100,000, Sonnet 4.x over 200,000 (1M window).
   */
  thresholdTokens: number;
}

/** A model's list price. The Message Batches API charges half of every rate. */
export interface ModelPrice extends PriceRates {
  /** Absent: one band for every prompt length. */
  longPrompt?: LongPromptRates;
}

export type PriceTable = Record<string, ModelPrice>;

const RATE_KEYS = ['inputPerMTok', 'outputPerMTok', 'cacheWrite5mPerMTok', 'cacheWrite1hPerMTok', 'cacheReadPerMTok'] as const;

let listPrices: PriceTable | undefined;

/**
 * The shipped price table. Read at run time rather than imported: data/ sits outside `rootDir`, and
 * src/plan/ and dist/plan/ are both two levels below the package root, so one relative URL serves both.
 */
export function loadListPrices(): PriceTable {
  if (!listPrices) {
    const url = new URL('../../data/prices.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { models?: Record<string, unknown> };
    listPrices = toPriceTable(parsed.models ?? {}, 'data/prices.json');
  }
  return listPrices;
}

/**
 * Keeps only the rates of each entry (the file also holds a name, a source and notes) and checks
 * them, so a bad edit to the shipped list fails loudly instead of pricing a model at NaN.
 */
export function toPriceTable(models: Record<string, unknown>, file: string): PriceTable {
  const table: PriceTable = {};
  for (const [model, entry] of Object.entries(models)) {
    const where = `${file}: models.${model}`;
    const e = entry as Record<string, unknown>;
    const price: ModelPrice = rates(e, where);
    if (e.longPrompt !== undefined) {
      const band = e.longPrompt as Record<string, unknown>;
      const threshold = band.thresholdTokens;
      if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1) {
        throw new Error(`${where}.longPrompt.thresholdTokens: expected a whole number >= 1, got ${JSON.stringify(threshold)}`);
      }
      price.longPrompt = { thresholdTokens: threshold, ...rates(band, `${where}.longPrompt`) };
    }
    table[model] = price;
  }
  return table;
}

function rates(entry: Record<string, unknown>, where: string): PriceRates {
  const out = {} as PriceRates;
  for (const key of RATE_KEYS) {
    const value = entry[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${where}.${key}: expected a number >= 0 (US$ per million tokens), got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Whether `model` is `base` itself, a dated snapshot of it (`base-20251001`) or its `-latest` alias.
 * Stricter than a bare prefix so `claude-opus-4` does not price a future `claude-opus-4-9`.
 */
function isVersionOf(model: string, base: string): boolean {
  if (model === base) return true;
  if (!model.startsWith(`${base}-`)) return false;
  const rest = model.slice(base.length + 1);
  return /^\d{8}$/.test(rest) || rest === 'latest';
}

function lookup(model: string, table: PriceTable): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  let best: string | undefined;
  for (const base of Object.keys(table)) {
    if (isVersionOf(model, base) && (!best || base.length > best.length)) best = base;
  }
  return best === undefined ? undefined : table[best];
}

/** The price of `model`: a config override first, then the list price; undefined when unknown. */
export function priceFor(model: string, overrides: PriceTable = {}): ModelPrice | undefined {
  return lookup(model, overrides) ?? lookup(model, loadListPrices());
}
