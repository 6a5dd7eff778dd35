/**
 * claw-batch as a library: what a Node program may import from `claw-batch`. Importing it starts
 * nothing (no timer, socket or file is opened until a wrapped client's first call).
 */
export { wrapClient, type PacedClient, type PacedMessages, type PacedPromise } from './library/wrap-client.js';
export type { WrapClientOptions } from './library/options.js';
export type { WithResponse } from './library/paced-call.js';
export { AbortedError, ClientClosedError, RateLimitWaitError } from './library/errors.js';
export { runJob, type RunJobOptions, type JobResult } from './library/run-job.js';
export type { JobEvent, JobEventSink, JobSummary } from './job-events.js';
export {
  ClawError,
  UsageError,
  InvalidOptionError,
  InputError,
  ConfigError,
  MissingApiKeyError,
  StoppedError,
  type StopReason,
} from './errors.js';
/** The local stand-in for the API, to rehearse against offline (as `claw-batch simulate`). */
export { startSimulator, type Simulator, type SimulatorOptions, type SimulatorCounters } from './simulator/index.js';
