/**
 * Reading the input the way `run` and `submit` both do: the path relative to the command's
 * directory, the defaults from the settings, and the whole input validated before anything is
 * sent. Until then Ctrl-C has nothing to finish, so it exits at once (3, as any stop).
 */
import { isAbsolute, resolve } from 'node:path';
import { itemDefaults, type Settings } from '../config.js';
import { ExitCode } from '../errors.js';
import { prepareInput, type InputSpec, type PreparedInput } from '../input/index.js';
import { onStopSignals } from '../stop-signal.js';
import type { CommandContext, InputFlags } from './context.js';

/**
 * `input` against `ctx.cwd` (a test may call a command with another cwd); the CLI's own paths stay
 * as typed, so messages name the file the way the user did.
 */
export function inputPath(input: string, ctx: CommandContext): string {
  return input === '-' || isAbsolute(input) || ctx.cwd === process.cwd() ? input : resolve(ctx.cwd, input);
}

/** What to read, and how, from the input flags and the settings. */
export function inputSpec(flags: InputFlags, settings: Settings, ctx: CommandContext): InputSpec {
  return {
    path: inputPath(flags.input, ctx),
    format: flags.format,
    template: flags.template,
    idField: flags.idField,
    defaults: itemDefaults(settings),
  };
}

export async function prepareFromFlags(flags: InputFlags, settings: Settings, ctx: CommandContext): Promise<PreparedInput> {
  return prepareStoppable(inputSpec(flags, settings, ctx), ctx);
}

/** `prepareInput`, during which Ctrl-C / SIGTERM exit at once (3): nothing has been sent yet. */
export async function prepareStoppable(spec: InputSpec, ctx: CommandContext): Promise<PreparedInput> {
  const early = onStopSignals(ctx.stderr, (sig) => {
    ctx.stderr.write(`claw-batch: ${sig}: stopped before anything was sent\n`);
    process.exit(ExitCode.stopped);
  });
  try {
    return await prepareInput(spec, ctx.stdin);
  } finally {
    early.dispose();
  }
}
