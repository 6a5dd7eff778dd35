/**
 * `claw-batch proxy`: a local gateway any Anthropic client points ANTHROPIC_BASE_URL at. It holds
 * each request until the account's budget admits it (per model class, on the shared limit store),
 * serves clients in turn, turns an upstream 429 into one pause for every caller, and passes
 * answers through as they arrive. What other modules may use:
 */
export { startProxy, STATUS_PATH, type Proxy } from './server.js';
export { DEFAULT_PROXY_PORT, DEFAULT_UPSTREAM, DEFAULT_MAX_WAIT_MS, type ProxyOptions } from './options.js';
export { isLoopback, urlFor } from './address.js';
export { CLIENT_HEADER } from './client-identity.js';
export { REPORT_PATH } from './live-report.js';
export { TOKEN_HEADER } from './token.js';
export type { ProxyStatus, ClassStatus } from './status.js';
// The in-process pacing machinery, for the library's wrapped client (src/library/).
export { Accounts } from './accounts.js';
export type { MessageLane, Turn } from './message-lane.js';
export { pickUsage, type Usage } from './usage.js';
