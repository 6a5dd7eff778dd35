/**
 * List prices per model, from data/prices.json (read once), with the config's `prices` on top.
 * A model without a price is not an error: the plan then shows tokens only.
 */
import { readFileSync } from 'node:fs';

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

export type PriceTable = Record<string, ModelPrice>;

let listPrices: PriceTable | undefined;

/**
 * The shipped price table. Read at run time rather than imported: data/ sits outside `rootDir`, and
 * src/plan/ and dist/plan/ are both two levels below the package root, so one relative URL serves both.
 */
export function loadListPrices(): PriceTable {
  if (!listPrices) {
    const url = new URL('../../data/prices.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { models?: PriceTable };
    listPrices = parsed.models ?? {};
  }
  return listPrices;
}

/**
 * Whether `model` is `base` itself, a dated snapshot of it (`base-20251001`) or its `-latest` alias.
 * Stricter than a bare prefix so `claude-opus-4` does not price a future `claude-opus-4-7`.
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
