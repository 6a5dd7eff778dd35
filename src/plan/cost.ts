/**
 * What a job cost at list price, from the `usage` the API returned, and what it would have cost the
 * other way (real time or the Message Batches API). Pure: prices come from src/plan/prices.ts.
 *
 * ```ts
 * const tally = new CostTally({ prices: settings.prices });   // config overrides, then data/prices.json
 * tally.add(message.model, message.usage);                    // a real-time answer
 * tally.add(model, result.message.usage, { batch: true });    // a result of the Batches API
 * const report = tally.report();
 * report.totalUsd;            // 0.0123: priced models only
 * report.tokens;              // { input, output, cacheWrite5m, cacheWrite1h, cacheRead }, every model
 * report.unpricedModels;      // ['my-finetune']: these report tokens only
 * report.otherWayUsd;         // the same usage the other way
 * formatUsd(report.totalUsd); // "$0.012"
 * describeSavings(report);    // "the Batches API saved $0.012" / "the Batches API would have saved $0.006"
 * ```
 *
 * How one usage is priced (platform.claude.com/docs/en/about-claude/pricing, as of the `asOf` of
 * data/prices.json):
 * - `input_tokens` at the input rate, `output_tokens` at the output rate, `cache_read_input_tokens`
 *   at the cache-read rate ("cache hits and refreshes").
 * - `cache_creation_input_tokens` are cache writes: `cache_creation.ephemeral_1h_input_tokens` of
 *   them at the 1-hour rate, the rest at the 5-minute rate. Without the `cache_creation` split they
 *   are all 5-minute writes (the default TTL). Tokens the total has beyond the split count as
 *   5-minute writes, so the cost never drops below what the API reported.
 * - A model with a `longPrompt` band (Haiku 5.5, Sonnet 4.x's 1M window): when the request's prompt,
 *   input + cache writes + cache reads, is over the band's threshold, every token of that request,
 *   output included, is priced at the band's rates. Each usage is one request, so it is judged alone.
 * - Through the Message Batches API (`{ batch: true }`, or `usage.service_tier` "batch" when the
 *   option is not given) every rate is halved, cache and long-prompt rates included.
 * - Not priced: fast mode (`usage.speed` "fast"), US-only inference (`inference_geo` "us"), and
 *   server tools billed per use (web search); such a usage is priced at the standard token rates.
 *
 * Exact arithmetic: each rate becomes a whole number of picodollars per token (US$ 1e-12; every list
 * price has at most six decimals per million tokens) and sums are kept as BigInt, so 1,000,000
 * cache reads of Sonnet 5 come to exactly 0.2 and a million small additions do not drift. Amounts
 * leave as `number`s of US$, the nearest double to the exact sum.
 */
import { formatCount } from '../ui/format.js';
import type { CostLine, CostMeter } from '../ui/summary.js';
import { priceFor, type ModelPrice, type PriceRates, type PriceTable } from './prices.js';

/**
 * The token counts of an API `usage` object (Anthropic.Usage fits). A count that is absent or null
 * is 0; one that is not a whole number >= 0 is refused.
 */
export interface UsageCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  service_tier?: string | null;
}

/** Tokens by how they are priced. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

export interface CostOptions {
  /**
   * Whether the usage came from the Message Batches API (half price). Default: whether
   * `usage.service_tier` is "batch".
   */
  batch?: boolean;
}

/** One model's share of a report. */
export interface ModelCost {
  model: string;
  /** Usages added: one a request. */
  requests: number;
  /** Of `requests`, those through the Batches API. */
  batchRequests: number;
  tokens: TokenCounts;
  /** Undefined when the model has no price: its tokens are reported, its cost is not. */
  usd: number | undefined;
}

/** A snapshot of a tally: plain data, ready for a summary line or `--json`. */
export interface CostReport {
  /** US$ at list price for the models with a price; the unpriced ones add nothing. */
  totalUsd: number;
  /** The same usage had every request gone the other way: real time for batch ones and vice versa. */
  otherWayUsd: number;
  requests: number;
  /** Every model's tokens, priced or not. */
  tokens: TokenCounts;
  /** By model name, in alphabetical order. */
  models: ModelCost[];
  /** The models without a price (in data/prices.json or the config), alphabetical. */
  unpricedModels: string[];
  /** The priced usage that went through the Batches API: its cost, the real-time price of it, the difference. */
  batch: { requests: number; usd: number; realtimeUsd: number; savedUsd: number };
  /** The priced usage that ran in real time: its cost, what the Batches API would have charged, the difference. */
  realtime: { requests: number; usd: number; batchUsd: number; wouldSaveUsd: number };
}

/** The list-price cost in US$ of one usage of a model with price `price`. */
export function costOfUsage(usage: UsageCounts, price: ModelPrice, options: CostOptions = {}): number {
  const full = fullPricePico(usageTokens(usage), price);
  return isBatch(usage, options) ? toUsd(full, 2n) : toUsd(full);
}

/** A usage's tokens by kind, checked (see UsageCounts) and with the cache writes split by TTL. */
export function usageTokens(usage: UsageCounts): TokenCounts {
  const written = count(usage.cache_creation_input_tokens, 'cache_creation_input_tokens');
  const split = usage.cache_creation ?? undefined;
  const w1h = count(split?.ephemeral_1h_input_tokens, 'cache_creation.ephemeral_1h_input_tokens');
  const w5m = count(split?.ephemeral_5m_input_tokens, 'cache_creation.ephemeral_5m_input_tokens');
  return {
    input: count(usage.input_tokens, 'input_tokens'),
    output: count(usage.output_tokens, 'output_tokens'),
    cacheWrite5m: Math.max(w5m, written - w1h),
    cacheWrite1h: w1h,
    cacheRead: count(usage.cache_read_input_tokens, 'cache_read_input_tokens'),
  };
}

interface ModelTally {
  price: ModelPrice | undefined;
  requests: number;
  batchRequests: number;
  tokens: TokenCounts;
  /** Real-time usage, at full price, in picodollars. */
  realtimePico: bigint;
  /** Batch usage, at full price (it cost half of this), in picodollars. */
  batchFullPico: bigint;
}

/** Adds up usages per model and prices them. */
export class CostTally {
  readonly #prices: PriceTable;
  readonly #models = new Map<string, ModelTally>();

  /** `prices`: overrides looked up before data/prices.json (the config's `prices:`). Default: none. */
  constructor(options: { prices?: PriceTable } = {}) {
    this.#prices = options.prices ?? {};
  }

  /** Counts one request's usage against `model` (the model the API reports, or the one asked for). */
  add(model: string, usage: UsageCounts, options: CostOptions = {}): void {
    if (typeof model !== 'string' || model === '') throw new TypeError(`Expected \`model\` to be a non-empty string, got ${JSON.stringify(model)}`);
    const tokens = usageTokens(usage);
    const batch = isBatch(usage, options);
    let entry = this.#models.get(model);
    if (!entry) {
      entry = { price: priceFor(model, this.#prices), requests: 0, batchRequests: 0, tokens: noTokens(), realtimePico: 0n, batchFullPico: 0n };
      this.#models.set(model, entry);
    }
    entry.requests += 1;
    if (batch) entry.batchRequests += 1;
    addTokens(entry.tokens, tokens);
    if (!entry.price) return;
    const full = fullPricePico(tokens, entry.price);
    if (batch) entry.batchFullPico += full;
    else entry.realtimePico += full;
  }

  report(): CostReport {
    const names = [...this.#models.keys()].sort();
    const tokens = noTokens();
    let realtimePico = 0n;
    let batchFullPico = 0n;
    let realtimeRequests = 0;
    let batchRequests = 0;
    const models: ModelCost[] = names.map((model) => {
      const m = this.#models.get(model)!;
      addTokens(tokens, m.tokens);
      if (m.price) {
        realtimePico += m.realtimePico;
        batchFullPico += m.batchFullPico;
        realtimeRequests += m.requests - m.batchRequests;
        batchRequests += m.batchRequests;
      }
      const usd = m.price ? toUsd(2n * m.realtimePico + m.batchFullPico, 2n) : undefined;
      return { model, requests: m.requests, batchRequests: m.batchRequests, tokens: { ...m.tokens }, usd };
    });
    return {
      totalUsd: toUsd(2n * realtimePico + batchFullPico, 2n),
      otherWayUsd: toUsd(realtimePico + 2n * batchFullPico, 2n),
      requests: models.reduce((n, m) => n + m.requests, 0),
      tokens,
      models,
      unpricedModels: models.filter((m) => m.usd === undefined).map((m) => m.model),
      batch: { requests: batchRequests, usd: toUsd(batchFullPico, 2n), realtimeUsd: toUsd(batchFullPico), savedUsd: toUsd(batchFullPico, 2n) },
      realtime: { requests: realtimeRequests, usd: toUsd(realtimePico), batchUsd: toUsd(realtimePico, 2n), wouldSaveUsd: toUsd(realtimePico, 2n) },
    };
  }
}

/**
 * The report's saving in words: "the Batches API saved $1.20" when the priced usage went through
 * it, "the Batches API would have saved $0.60" when it ran in real time, both (joined by "; ") for
 * a job that did some of each. Undefined when nothing priced was added.
 */
export function describeSavings(report: CostReport): string | undefined {
  const parts: string[] = [];
  if (report.batch.requests > 0) parts.push(`the Batches API saved ${formatUsd(report.batch.savedUsd)}`);
  if (report.realtime.requests > 0) {
    const subject = parts.length > 0 ? `on the ${formatCount(report.realtime.requests)} real-time requests it would have saved` : 'the Batches API would have saved';
    parts.push(`${subject} ${formatUsd(report.realtime.wouldSaveUsd)}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * US$ for people: two decimals from 10 cents up (`$12.34`, `$1,234.57`), two significant digits
 * below, so a small job does not read `$0.00` (`$0.042`, `$0.0042`, `$0.05`).
 */
export function formatUsd(usd: number): string {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) throw new RangeError(`Expected a finite amount of US$, got ${String(usd)}`);
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs === 0) return '$0.00';
  if (abs < 0.1) {
    const decimals = Math.min(12, 1 - Math.floor(Math.log10(abs)));
    const text = abs.toFixed(decimals);
    // Rounding up to 0.1 (0.09996) falls through to the two-decimal form.
    if (Number(text) < 0.1) return `${sign}$${text.replace(/(\.\d\d\d*?)0+$/, '$1')}`;
  }
  return `${sign}$${dollars.format(abs)}`;
}

// ---- arithmetic --------------------------------------------------------------------------------

const PICO_PER_USD = 1_000_000_000_000n;

/** What `tokens` cost at full (real-time) price, in picodollars. */
function fullPricePico(tokens: TokenCounts, price: ModelPrice): bigint {
  const prompt = tokens.input + tokens.cacheWrite5m + tokens.cacheWrite1h + tokens.cacheRead;
  const band = price.longPrompt;
  const rates: PriceRates = band && prompt > band.thresholdTokens ? band : price;
  return (
    BigInt(tokens.input) * pico(rates.inputPerMTok) +
    BigInt(tokens.output) * pico(rates.outputPerMTok) +
    BigInt(tokens.cacheWrite5m) * pico(rates.cacheWrite5mPerMTok) +
    BigInt(tokens.cacheWrite1h) * pico(rates.cacheWrite1hPerMTok) +
    BigInt(tokens.cacheRead) * pico(rates.cacheReadPerMTok)
  );
}

/** US$ per million tokens → picodollars per token (the same digits: $1/MTok is 1e6 pico$ a token). */
function pico(perMTok: number): bigint {
  return BigInt(Math.round(perMTok * 1e6));
}

/** `amount / divisor` picodollars in US$: whole dollars plus the correctly rounded fraction. */
function toUsd(amount: bigint, divisor = 1n): number {
  const scale = PICO_PER_USD * divisor;
  const whole = amount / scale;
  return Number(whole) + Number(amount - whole * scale) / Number(scale);
}

function isBatch(usage: UsageCounts, options: CostOptions): boolean {
  return options.batch ?? usage.service_tier === 'batch';
}

function count(value: number | null | undefined, name: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError(`Expected \`usage.${name}\` to be a whole number >= 0, got ${JSON.stringify(value)} (${typeof value})`);
}

function noTokens(): TokenCounts {
  return { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };
}

function addTokens(into: TokenCounts, more: TokenCounts): void {
  into.input += more.input;
  into.output += more.output;
  into.cacheWrite5m += more.cacheWrite5m;
  into.cacheWrite1h += more.cacheWrite1h;
  into.cacheRead += more.cacheRead;
}

/**
 * The summary's cost line from a report: the priced total at list price, what the other way would
 * have cost, and the models that report tokens only.
 */
export function costLine(report: CostReport): CostLine {
  // Nothing sent (a rerun with everything done, a stop before the first request): nothing spent.
  if (report.requests === 0) return { usd: 0, otherWayUsd: 0, text: '$0.00 (no requests)' };
  const priced = report.models.some((m) => m.usd !== undefined);
  const unpriced = report.unpricedModels.length > 0 ? `no price for ${report.unpricedModels.join(', ')} (tokens only)` : '';
  if (!priced) return { usd: null, otherWayUsd: null, text: unpriced };
  const savings = describeSavings(report);
  const parts = [`${formatUsd(report.totalUsd)} at list price`, savings, unpriced].filter(Boolean);
  return { usd: report.totalUsd, otherWayUsd: report.otherWayUsd, text: parts.join(' — ') };
}

/** A CostMeter on a CostTally: what the summary and --max-cost read. */
export function costMeter(options: { prices?: PriceTable } = {}): CostMeter & { tally: CostTally } {
  const tally = new CostTally(options);
  return {
    tally,
    add: (model, usage, opts) => tally.add(model, usage as UsageCounts, opts),
    spentUsd: () => tally.report().totalUsd,
    line: () => costLine(tally.report()),
  };
}
