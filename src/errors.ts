/**
 * The errors a command can end with. Commands throw these; `src/main.ts` is the one place that
 * turns them into an exit code and a one-line message. Each class is a case a caller branches on.
 *
 * Exit codes (DESIGN.md): 0 all succeeded; 1 finished, some items errored; 2 usage, config or input
 * error (nothing was sent); 3 stopped early, rerun resumes; 75 `poll` on a job still processing.
 */
import { shortened } from './quote.js';

export const ExitCode = {
  ok: 0,
  someErrored: 1,
  usage: 2,
  stopped: 3,
  stillProcessing: 75,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ClawError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad flag, a bad combination of flags, or a command that cannot run as asked. Exit 2. */
export class UsageError extends ClawError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** A flag whose value is not acceptable: names the flag and the value. Exit 2. */
export class InvalidOptionError extends UsageError {
  readonly flag: string;
  readonly value: unknown;
  constructor(flag: string, value: unknown, expected: string) {
    super(`Invalid value for ${flag}: expected ${expected}, got \`${shortened(String(value))}\``);
    this.flag = flag;
    this.value = value;
  }
}

/** A config file that cannot be read or has a bad key. Exit 2. */
export class ConfigError extends ClawError {
  readonly file: string;
  readonly key: string | undefined;
  constructor(file: string, key: string | undefined, problem: string) {
    super(key ? `${file}: ${key}: ${problem}` : `${file}: ${problem}`, ExitCode.usage);
    this.file = file;
    this.key = key;
  }
}

/** A bad input record, found before anything is sent. Exit 2. */
export class InputError extends ClawError {
  readonly file: string;
  readonly line: number | undefined;
  readonly problem: string;
  constructor(file: string, line: number | undefined, problem: string) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`, ExitCode.usage);
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** Why a run stopped before every item was done. */
export type StopReason = 'interrupted' | 'auth' | 'spend-limit' | 'billing' | 'queue-timeout' | 'max-cost' | 'output' | 'api' | 'incomplete';

/**
 * The run stopped early: a signal, a rejected API key, a spend limit, a rate-limit wait longer than
 * `queue_timeout_ms` allows, a results file that cannot be written (a full disk), an input that gave
 * fewer items when read again than when it was checked. What finished is in the output; rerunning
 * the same command resumes. Exit 3.
 */
export class StoppedError extends ClawError {
  readonly reason: StopReason;
  constructor(reason: StopReason, message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.stopped, options);
    this.reason = reason;
  }
}

/** `poll` without `--wait` on a job whose batches have not all ended. Exit 75 (EX_TEMPFAIL). */
export class StillProcessingError extends ClawError {
  constructor(message: string) {
    super(message, ExitCode.stillProcessing);
  }
}

/** No credentials: nothing can be sent. Exit 2 (nothing was sent). */
export class MissingApiKeyError extends UsageError {
  constructor() {
    super(
      'No API key: set ANTHROPIC_API_KEY, or point ANTHROPIC_BASE_URL at `claw-batch simulate` to rehearse offline',
    );
  }
}
