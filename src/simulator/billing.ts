/**
 * The answers that stop a job for money rather than rate (DESIGN.md, "Rate limits as the API
 * enforces them"): the tier's spend cap, and the three billing refusals. None is worth retrying,
 * so each says `x-should-retry: false`.
 */
import { ApiError } from './api-error.js';

export type BillingRefusal = 'credit-balance' | 'workspace-limit' | 'billing-error';

export const BILLING_REFUSALS: readonly BillingRefusal[] = ['credit-balance', 'workspace-limit', 'billing-error'];

/** The tier's spend cap: a 429 told apart from a rate limit by its error code, with no `retry-after`. */
export function spendCapError(headers: Record<string, string>): ApiError {
  return new ApiError(
    429,
    'rate_limit_error',
    "This request would exceed your organization's spend limit; raise the limit in the Console to continue.",
    { details: { error_code: 'enforced_spend_limit_reached' }, headers, shouldRetry: false },
  );
}

/**
 * - `credit-balance`: 400, the account is out of prepaid credit.
 * - `workspace-limit`: 400, a spend limit the user set on the workspace.
 * - `billing-error`: 402 `billing_error`, a payment problem.
 */
export function billingRefusal(kind: BillingRefusal): ApiError {
  if (kind === 'credit-balance') {
    return new ApiError(
      400,
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    );
  }
  if (kind === 'workspace-limit') {
    return new ApiError(
      400,
      'invalid_request_error',
      'You have reached your specified workspace API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.',
    );
  }
  return new ApiError(402, 'billing_error', 'There is a problem with your billing information. Please check Plans & Billing in the Console.');
}
