/**
 * The local stand-in for the Anthropic API: Messages, token counting and Message Batches over
 * real HTTP, with the account's rate limits as token buckets and injectable faults. Tests,
 * benchmarks and `claw-batch simulate` all use it; the real SDK talks to it unmodified.
 */
export { startSimulator, type Simulator } from './server.js';
export type { SimulatorOptions } from './options.js';
export type { SimulatorCounters } from './counters.js';
export {
  replyText,
  replyFor,
  promptKey,
  countTokens,
  simulatedMessage,
  type PromptParams,
  type ReplyTokens,
  type SimulatedMessage,
  type SimulatedUsage,
} from './replies.js';
export { modelClass } from './model-classes.js';
export { TIERS, type Tier, type ClassLimitSet } from './tiers.js';
export { DEFAULT_ORGANIZATION_ID, type OrganizationSpec, type WorkspaceSpec } from './organizations.js';
export type { UnseenTraffic } from './unseen-traffic.js';
