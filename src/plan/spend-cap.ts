/**
 * The `--max-cost` cap for real-time runs (the scheduler's SpendCap): a request may go only if the
 * spend so far, plus the worst case of the requests already in flight, plus its own worst case,
 * stays within the cap. A request's worst case is its whole prompt at the dearest input rate it
 * could be charged (a cache write, when it sets cache_control) with a generous tokens-per-character
 * guess, plus its max_tokens of output.
 */
import type { Item } from '../types.js';
import type { SpendCap, SpendTicket } from '../realtime/spend-cap.js';
import type { CostMeter } from '../ui/summary.js';
import { formatUsd } from './cost.js';
import { priceFor, type PriceTable } from './prices.js';
import { promptChars } from '../input/index.js';

/**
 * Worst-case tokens per character of prompt: English prose runs about 1 per 4, code and many other
 * languages denser; the scheduler's own estimate starts from the same 1 per 3 before it calibrates.
 */
const WORST_TOKENS_PER_CHAR = 1 / 3;

export function worstCaseUsd(item: Item, prices: PriceTable): number | undefined {
  const price = priceFor(item.params.model, prices);
  if (!price) return undefined;
  const params = item.params as unknown as Record<string, unknown>;
  const toolsChars = Array.isArray(params.tools) ? JSON.stringify(params.tools).length : 0;
  const inputTokens = Math.ceil((promptChars(item.params) + toolsChars) * WORST_TOKENS_PER_CHAR) + 8;
  const caches = JSON.stringify(params).includes('"cache_control"');
  const band = price.longPrompt && inputTokens > price.longPrompt.thresholdTokens ? price.longPrompt : price;
  const inputRate = caches ? Math.max(band.inputPerMTok, band.cacheWrite1hPerMTok) : band.inputPerMTok;
  return (inputTokens * inputRate + item.params.max_tokens * band.outputPerMTok) / 1e6;
}

export function createSpendCap(maxUsd: number, meter: CostMeter, prices: PriceTable, name = '--max-cost'): SpendCap {
  let inFlightUsd = 0;
  let inFlight = 0;
  let released: { promise: Promise<void>; resolve: () => void } | undefined;
  return {
    admit(item) {
      const worst = worstCaseUsd(item, prices) ?? 0;
      const spent = meter.spentUsd();
      if (spent + inFlightUsd + worst > maxUsd) {
        // What is in flight will cost less than its worst case: wait for it before deciding.
        if (inFlight > 0) {
          if (!released) {
            let resolve!: () => void;
            const promise = new Promise<void>((r) => (resolve = r));
            released = { promise, resolve };
          }
          return { wait: released.promise };
        }
        return {
          stop:
            `${name} ${formatUsd(maxUsd)} reached: ${formatUsd(spent)} spent; the next request could cost up to ` +
            `${formatUsd(worst)} more, so none is sent (rerun with a higher cap to go on: it counts from zero in each run)`,
        };
      }
      inFlightUsd += worst;
      inFlight += 1;
      const ticket: SpendTicket = { worstUsd: worst };
      return { ticket };
    },
    release(ticket) {
      inFlightUsd = Math.max(0, inFlightUsd - ticket.worstUsd);
      inFlight = Math.max(0, inFlight - 1);
      const waiting = released;
      released = undefined;
      waiting?.resolve();
    },
  };
}

/** The least any one pending request could cost at worst, for a cap that no request could fit. */
export async function cheapestWorstCase(
  items: AsyncIterable<Item>,
  prices: PriceTable,
  include: (customId: string) => boolean,
): Promise<{ usd: number; customId: string } | undefined> {
  let best: { usd: number; customId: string } | undefined;
  for await (const item of items) {
    if (!include(item.custom_id)) continue;
    const usd = worstCaseUsd(item, prices);
    if (usd !== undefined && (!best || usd < best.usd)) best = { usd, customId: item.custom_id };
  }
  return best;
}

/**
 * The worst case of a whole job, for `--max-cost` with the Batches API (`batch`: half price), and
 * the models it cannot price. Streams the items once.
 */
export async function worstCaseOfJob(
  items: AsyncIterable<Item>,
  prices: PriceTable,
  options: { batch: boolean; include?: (customId: string) => boolean },
): Promise<{ usd: number; requests: number; unpriced: string[] }> {
  let usd = 0;
  let requests = 0;
  const unpriced = new Set<string>();
  for await (const item of items) {
    if (options.include && !options.include(item.custom_id)) continue;
    const worst = worstCaseUsd(item, prices);
    if (worst === undefined) unpriced.add(item.params.model);
    else usd += worst;
    requests += 1;
  }
  return { usd: options.batch ? usd / 2 : usd, requests, unpriced: [...unpriced] };
}
