/**
 * `--max-cost USD` (config `max_cost_usd`), the same way for `run` and `submit`: with the Batches API
 * the worst case of the whole job (every answer at max_tokens, half price) must fit before anything
 * is submitted (exit 2 with the numbers); in real time the run stops cleanly before the requests it
 * sends could pass the cap (exit 3; a rerun with a higher cap resumes). A model without a price
 * cannot be capped: exit 2 saying how to give it one.
 */
import { settingSource, type Settings } from '../config.js';
import { UsageError } from '../errors.js';
import type { PreparedInput } from '../input/index.js';
import { formatUsd } from '../plan/cost.js';
import { priceFor } from '../plan/prices.js';
import { cheapestWorstCase, createSpendCap, worstCaseOfJob } from '../plan/spend-cap.js';
import type { SpendCap } from '../realtime/spend-cap.js';
import type { CostMeter } from '../ui/index.js';

function requirePrices(prepared: PreparedInput, settings: Settings): void {
  const unpriced = prepared.models.filter((m) => !priceFor(m, settings.prices));
  if (unpriced.length > 0) {
    throw new UsageError(
      `--max-cost needs a price for ${unpriced.join(', ')}: add ${unpriced.length === 1 ? 'it' : 'them'} under prices: in the config (US$ per million tokens)`,
    );
  }
}

/** Throws when the job's worst case through the Batches API is over the cap. */
export async function checkBatchMaxCost(prepared: PreparedInput, settings: Settings, include?: (customId: string) => boolean): Promise<void> {
  const cap = settings.maxCostUsd;
  if (cap === undefined) return;
  requirePrices(prepared, settings);
  const worst = await worstCaseOfJob(prepared.items(), settings.prices, { batch: true, include });
  if (worst.usd > cap) {
    throw new UsageError(
      `${capName(settings)} ${formatUsd(cap)}: the worst case of these ${worst.requests} requests through the Batches API is ${formatUsd(worst.usd)} ` +
        '(every answer at its max_tokens, half price); nothing was submitted — raise the cap, lower max_tokens, or split the input',
    );
  }
}

/** Throws when no pending request could ever fit the cap in real time (its worst case alone is over it). */
export async function checkRealtimeMaxCost(prepared: PreparedInput, settings: Settings, include: (customId: string) => boolean): Promise<void> {
  const cap = settings.maxCostUsd;
  if (cap === undefined) return;
  requirePrices(prepared, settings);
  const cheapest = await cheapestWorstCase(prepared.items(), settings.prices, include);
  if (cheapest && cheapest.usd > cap) {
    throw new UsageError(
      `${capName(settings)} ${formatUsd(cap)} is below what any one request could cost (the least is ${formatUsd(cheapest.usd)}, ` +
        `"${cheapest.customId}" with its answer at max_tokens), so none could be sent; nothing was sent — raise the cap or lower max_tokens`,
    );
  }
}

/** The real-time cap, or undefined without --max-cost. */
export function realtimeSpendCap(prepared: PreparedInput, settings: Settings, meter: CostMeter): SpendCap | undefined {
  if (settings.maxCostUsd === undefined) return undefined;
  requirePrices(prepared, settings);
  return createSpendCap(settings.maxCostUsd, meter, settings.prices, capName(settings));
}

/** How the cap is named in messages: where it was set (`--max-cost`, the variable, the config key). */
function capName(settings: Settings): string {
  return settingSource(settings, 'maxCostUsd', { flag: '--max-cost', env: 'CLAW_BATCH_MAX_COST_USD', file: 'max_cost_usd' });
}

