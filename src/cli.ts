/**
 * commander wiring only: flags -> typed options -> a command function. Numeric flags are parsed
 * here (each failure names the flag and value); everything else happens in src/commands/.
 *
 * Each command's module is imported when that command runs, not before: `--help`, `simulate` or
 * `export` then load none of the SDK, SQLite, the proxy or the simulator they do not use, and `run`
 * none of the proxy's or the simulator's code (every module loaded stays in the heap for the
 * process's life, and V8 sizes its heap from what stays: bench/README.md).
 */
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import type { CommandContext, InputFlags } from './commands/context.js';
import { InvalidOptionError, UsageError } from './errors.js';
import {
  parseChoice,
  parseFraction,
  parseNonNegativeInt,
  parseNonNegativeNumber,
  parsePositiveInt,
  parsePositiveNumber,
  parsePort,
  parseSharedLimits,
} from './options.js';

type Raw = Record<string, string | boolean | undefined>;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function addInputFlags(cmd: Command): Command {
  return cmd
    .option('--model <model>', 'model for items that do not name one')
    .option('--max-tokens <n>', 'max_tokens for items that do not set it')
    .option('--system <text>', 'system prompt for items that do not set one')
    .option('--schema <file>', 'JSON Schema the answers must follow: sent as structured output, each answer validated and parsed')
    .option('--template <text>', 'CSV: the user message, with {{column}} placeholders')
    .option('--id-field <name>', 'the column or field that holds the custom_id')
    .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(['jsonl', 'csv']))
    .option('--config <file>', 'config file (default: ./claw-batch.config.yaml if present)');
}

function inputFlags(input: string, o: Raw): InputFlags {
  return {
    input,
    format: parseChoice('--format', str(o.format), ['jsonl', 'csv'] as const),
    model: str(o.model),
    maxTokens: parsePositiveInt('--max-tokens', str(o.maxTokens)),
    system: str(o.system),
    schema: str(o.schema),
    template: str(o.template),
    idField: str(o.idField),
    config: str(o.config),
  };
}

function runMode(o: Raw): 'auto' | 'realtime' | 'batch' | undefined {
  if (o.batchApi && o.realtime) throw new UsageError('--batch-api and --realtime cannot be used together');
  const mode = parseChoice('--mode', str(o.mode), ['auto', 'realtime', 'batch'] as const);
  if (o.batchApi) {
    if (mode && mode !== 'batch') throw new UsageError(`--batch-api contradicts --mode ${mode}`);
    return 'batch';
  }
  if (o.realtime) {
    if (mode && mode !== 'realtime') throw new UsageError(`--realtime contradicts --mode ${mode}`);
    return 'realtime';
  }
  return mode;
}

/** Builds the program. `onResult` receives each command's exit code. */
export function buildProgram(ctx: CommandContext, onResult: (code: number) => void): Command {
  const program = new Command('claw-batch')
    .description(
      "Run many Claude requests from a file at the account's rate limit and no faster, or through the Message Batches API for half the price.",
    )
    .version(version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // main.ts prints the one-line error itself.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Examples:
  $ claw-batch run tickets.jsonl --model claude-haiku-4-5 --rpm 50 -o results.jsonl
  $ id=$(claw-batch submit tickets.jsonl --batch-api --model claude-haiku-4-5) && claw-batch poll "$id" --wait -o results.jsonl
  $ claw-batch simulate --rpm 60     # rehearse offline

Exit codes: 0 all succeeded, 1 some items errored, 2 usage or input error (nothing sent),
3 stopped early (rerun resumes), 75 poll: still processing. Run \`claw-batch <command> --help\` for more.`,
    );

  addInputFlags(
    program
      .command('run')
      .description('process every item to the end in the foreground (real-time, or the Batches API when cheaper and not urgent)')
      .argument('<input>', 'JSONL or CSV file, or - for stdin')
      .option('-o, --output <file>', 'results file (JSONL); rerunning with the same file resumes (default: stdout)')
      .option('--rpm <n>', 'requests per minute limit (default: learned from the API)')
      .option('--itpm <n>', 'input tokens per minute limit')
      .option('--otpm <n>', 'output tokens per minute limit')
      .option('--concurrency <n>', 'most requests in flight per model class, a ceiling on the count sized from pace and latency (default 1024, max 4096)')
      .option('--delay-ms <n>', 'pause each worker slot this long between its requests (default 0)'),
  )
    .addOption(new Option('--mode <mode>', 'auto, realtime or batch (default auto)').choices(['auto', 'realtime', 'batch']))
    .option('--batch-api', 'force the Message Batches API (same as --mode batch)')
    .option('--realtime', 'force real-time requests (same as --mode realtime)')
    .option('--urgent', 'in auto mode, always choose real-time')
    .option('--shared-limits <where>', "where the account's budget lives: local (every process on this machine), off, or redis://… (default: local)")
    .option('--deadline <when>', 'results needed by then: a duration (90m, 6h) or an RFC 3339 time; auto mode picks the cheapest way to make it')
    .option('--max-cost <usd>', 'stop before the spend could pass this many US$ (Batches API: refuse a job whose worst case is over it)')
    .option('--max-attempts <n>', 'attempts per item for 5xx, 529 and dropped connections (default 6)')
    .option('--fresh', 'ignore results already in --output and start over')
    .option('--dry-run', 'print the plan (mode, time and cost each way) and send nothing')
    .option('--quiet', 'print errors only')
    .option('--json', 'print the final summary as one JSON object on stderr')
    .option('--report <file>', 'at the end, write the run as a self-contained HTML report to this file (any time later: claw-batch report)')
    .addHelpText(
      'after',
      `
Examples:
  $ claw-batch run tickets.jsonl --rpm 50 --concurrency 5 -o results.jsonl
  $ claw-batch run export.csv --template "Summarize: {{text}}" --id-field id --model claude-haiku-4-5 -o out.jsonl
  $ cat items.jsonl | claw-batch run - --dry-run`,
    )
    .action(async (input: string, o: Raw) => {
      const { parseConcurrency } = await import('./config.js');
      onResult(
        await (await import('./commands/run.js')).run(
          {
            ...inputFlags(input, o),
            output: str(o.output),
            rpm: parsePositiveNumber('--rpm', str(o.rpm)),
            itpm: parsePositiveNumber('--itpm', str(o.itpm)),
            otpm: parsePositiveNumber('--otpm', str(o.otpm)),
            concurrency: parseConcurrency('--concurrency', str(o.concurrency)),
            delayMs: parseNonNegativeNumber('--delay-ms', str(o.delayMs)),
            mode: runMode(o),
            urgent: Boolean(o.urgent),
            maxCost: parsePositiveNumber('--max-cost', str(o.maxCost)),
            deadline: str(o.deadline),
            sharedLimits: parseSharedLimits('--shared-limits', str(o.sharedLimits)),
            maxAttempts: parsePositiveInt('--max-attempts', str(o.maxAttempts)),
            fresh: Boolean(o.fresh),
            dryRun: Boolean(o.dryRun),
            quiet: Boolean(o.quiet),
            json: Boolean(o.json),
            report: str(o.report),
          },
          ctx,
        ),
      );
    });

  addInputFlags(
    program
      .command('submit')
      .description('submit the input to the Message Batches API and print the job id (returns at once)')
      .argument('[input]', 'JSONL or CSV file, or - for stdin'),
  )
    .option('--batch-api', 'use the Message Batches API (the only mode submit has; accepted for clarity)')
    .option('--retry-failed <job>', 'resend only the errored, expired or canceled items of this job, as a new job')
    .option('--force', 'submit even though a job for the same input is still active')
    .option('--max-cost <usd>', 'refuse to submit when the worst case (every answer at max_tokens, half price) is over this many US$')
    .option('--dry-run', 'validate and print the plan; send nothing')
    .option('--quiet', 'print errors only')
    .option('--json', 'print the job as one JSON object on stderr')
    .addHelpText(
      'after',
      `
Examples:
  $ id=$(claw-batch submit items.jsonl --batch-api)
  $ claw-batch submit --retry-failed job_20261128_abcd`,
    )
    .action(async (input: string | undefined, o: Raw) => {
      const retryFailed = str(o.retryFailed);
      if (!input && !retryFailed) throw new UsageError('submit needs an input file (or --retry-failed JOB)');
      if (retryFailed) {
        // The items are rebuilt as the parent job built them: a flag that would change them would be dropped.
        const changing = (['model', 'maxTokens', 'system', 'schema', 'template', 'idField', 'format'] as const).filter((k) => o[k] !== undefined);
        if (changing.length > 0) {
          const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
          throw new UsageError(
            `--retry-failed resends the items as job ${retryFailed} built them, so ${changing.map(flag).join(', ')} cannot change them; submit the input as a new job to change them`,
          );
        }
      }
      onResult(
        await (await import('./commands/submit.js')).submit(
          {
            ...inputFlags(input ?? '', o),
            retryFailed,
            force: Boolean(o.force),
            maxCost: parsePositiveNumber('--max-cost', str(o.maxCost)),
            dryRun: Boolean(o.dryRun),
            quiet: Boolean(o.quiet),
            json: Boolean(o.json),
          },
          ctx,
        ),
      );
    });

  program
    .command('poll')
    .description('report a job\'s status; once it has ended, write its results (exit 75 while still processing)')
    .argument('<id>', 'a claw-batch job id or a msgbatch_… id')
    .option('-o, --output <file>', 'results file (JSONL) (default: stdout)')
    .option('--wait', 'keep polling until the job ends, showing progress')
    .option('--interval <seconds>', 'seconds between polls to start with; grows while waiting (default 10)')
    .option('--quiet', 'print errors only')
    .option('--json', 'print the status as one JSON object on stderr')
    .option('--report <file>', 'once the job has ended and its results are written, write its HTML report to this file')
    .addHelpText(
      'after',
      `
Examples:
  $ claw-batch poll "$id" -o results.jsonl          # exit 75 while processing
  $ claw-batch poll "$id" --wait --interval 30 -o results.jsonl`,
    )
    .action(async (id: string, o: Raw) => {
      onResult(
        await (await import('./commands/poll.js')).poll(
          {
            id,
            output: str(o.output),
            wait: Boolean(o.wait),
            interval: parsePositiveNumber('--interval', str(o.interval)),
            quiet: Boolean(o.quiet),
            json: Boolean(o.json),
            report: str(o.report),
          },
          ctx,
        ),
      );
    });

  program
    .command('report')
    .description('draw a run from its event log as ONE self-contained HTML file (opens offline): rates against the limits, in flight, 429s, latency, cost, errors')
    .argument('[run]', 'a run or job id, or the results file a run wrote (default: the newest run)')
    .option('-o, --output <file>', 'the HTML file (default: OUT.report.html beside the results file, else <id>.report.html here)')
    .option('--quiet', 'print errors only')
    .addHelpText('after', '\nExamples:\n  $ claw-batch report results.jsonl\n  $ claw-batch report job_20261128_141500_a3f9 -o job.html')
    .action(async (target: string | undefined, o: Raw) => {
      onResult(await (await import('./commands/report.js')).report({ target, output: str(o.output), quiet: Boolean(o.quiet) }, ctx));
    });

  program
    .command('cancel')
    .description('cancel every batch of a job; their items come back as canceled')
    .argument('<id>', 'a claw-batch job id or a msgbatch_… id')
    .addHelpText('after', '\nExample:\n  $ claw-batch cancel job_20261128_abcd')
    .action(async (id: string) => {
      onResult(await (await import('./commands/cancel.js')).cancel({ id }, ctx));
    });

  program
    .command('list')
    .description("list local jobs with their state, and the account's recent batches")
    .option('--limit <n>', 'how many recent batches of the account to show (default 20)')
    .option('--json', 'print as JSON on stdout')
    .addHelpText('after', '\nExample:\n  $ claw-batch list --limit 50')
    .action(async (o: Raw) => {
      onResult(await (await import('./commands/list.js')).list({ limit: parsePositiveInt('--limit', str(o.limit)), json: Boolean(o.json) }, ctx));
    });

  program
    .command('proxy')
    .description("a local gateway for any Anthropic client: holds each request until the account's rate limit admits it")
    .option('--port <n>', 'port to listen on (default 8787; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; any other needs --token)')
    .option('--upstream <url>', 'the API to forward to (default: CLAW_BATCH_UPSTREAM, else https://api.anthropic.com)')
    .option('--rpm <n>', 'requests per minute ceiling per model class (default: learned from the API)')
    .option('--itpm <n>', 'input tokens per minute ceiling per model class')
    .option('--otpm <n>', 'output tokens per minute ceiling per model class')
    .option('--shared-limits <where>', 'where the budgets live: local, off or redis://… (default local)')
    .option('--max-wait <s>', 'hold a request at most this long before the client gets the 429 (default 300)')
    .option('--token <t>', 'a secret every client must send as x-claw-token (default: CLAW_BATCH_PROXY_TOKEN)')
    .option('--config <file>', 'config file (default: ./claw-batch.config.yaml if present)')
    .addHelpText(
      'after',
      `
Examples:
  $ claw-batch proxy
  $ export ANTHROPIC_BASE_URL=http://127.0.0.1:8787     # in each agent's shell
  $ curl -s http://127.0.0.1:8787/_claw/status
  $ CLAW_BATCH_PROXY_TOKEN=$(openssl rand -hex 16) claw-batch proxy --host 0.0.0.0

See docs/proxy.md for Claude Code, the Python and TypeScript SDKs, and curl.`,
    )
    .action(async (o: Raw) => {
      onResult(
        await (await import('./commands/proxy.js')).proxy(
          {
            port: parsePort('--port', str(o.port)),
            host: str(o.host),
            upstream: str(o.upstream),
            rpm: parsePositiveNumber('--rpm', str(o.rpm)),
            itpm: parsePositiveNumber('--itpm', str(o.itpm)),
            otpm: parsePositiveNumber('--otpm', str(o.otpm)),
            sharedLimits: parseSharedLimits('--shared-limits', str(o.sharedLimits)),
            maxWaitSeconds: parsePositiveNumber('--max-wait', str(o.maxWait)),
            token: str(o.token),
            config: str(o.config),
          },
          ctx,
        ),
      );
    });

  program
    .command('limits')
    .description("show, for the current key, each model class's limits, levels now, any pause, and the processes sharing them")
    .option('--shared-limits <where>', 'local (this machine), off, or redis://… (default: local)')
    .option('--config <file>', 'config file (default: ./claw-batch.config.yaml if present)')
    .option('--json', 'print as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  $ claw-batch limits\n  $ claw-batch limits --shared-limits redis://:secret@redis.internal:6379/0 --json')
    .action(async (o: Raw) => {
      onResult(
        await (await import('./commands/limits.js')).limits({ sharedLimits: parseSharedLimits('--shared-limits', str(o.sharedLimits)), config: str(o.config), json: Boolean(o.json) }, ctx),
      );
    });

  program
    .command('simulate')
    .description('serve a local stand-in for the Anthropic API, to rehearse a job offline')
    .option('--port <n>', 'port to listen on (default 4010; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .addOption(new Option('--tier <tier>', "preset every model class's limits to a usage tier").choices(['start', 'build', 'scale']))
    .option('--rpm <n>', 'requests per minute, per model class (default: the tier\'s, else none)')
    .option('--itpm <n>', 'input tokens per minute, per model class (default: the tier\'s, else none)')
    .option('--otpm <n>', 'output tokens per minute, per model class (default: the tier\'s, else none)')
    .option('--class-limit <spec>', 'one class\'s limits, e.g. claude-haiku-4-5:rpm=1000,otpm=90000 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--otpm-rule <rule>', 'how output tokens count (default as-produced)').choices(['as-produced', 'reserve-max-tokens']))
    .option('--burst-seconds <s>', "bucket capacity, in seconds' worth of the limit (default 1)")
    .option('--latency-ms <n>', 'mean response latency; with --output-tokens-per-second, the time to the first token (default 0)')
    .option('--jitter-ms <n>', 'latency jitter, +/- (default 0)')
    .option('--reply-tokens <n|min-max>', 'output tokens of each reply, e.g. 300 or 200-800 (default: a short reply)')
    .option('--output-tokens-per-second <n>', 'output speed: long answers take longer (default: none)')
    .option('--cache-min-tokens <n>', 'shortest prompt prefix that is cached (default 1024)')
    .option('--cache-ttl-scale <x>', 'multiply the cache TTLs, e.g. 0.01 makes 5 minutes 3 s (default 1)')
    .option('--fault-rate <p>', 'fraction of requests that fail, split over 500, 529 and dropped connections')
    .option('--rate-500 <p>', 'fraction of requests answered 500 api_error')
    .option('--rate-529 <p>', 'fraction of requests answered 529 overloaded_error')
    .option('--drop-rate <p>', 'fraction of connections dropped without an answer')
    .option('--hang-rate <p>', 'fraction of requests accepted and never answered')
    .option('--stall-rate <p>', 'fraction of streams that stop mid-answer without ending')
    .option('--invalid-structured-rate <p>', 'fraction of structured answers (--schema) that are not JSON or break the schema')
    .option('--reject-key <key>', 'answer 401 to this API key')
    .option('--batch-ms <n>', 'how long a message batch takes to end (default 2000)')
    .option('--batch-queue-limit <n>', "requests the Batches API's processing queue holds; a create past it is a 429 (default: the tier's, else none)")
    .option('--spend-limit-after <n>', 'after this many messages, answer 429 enforced_spend_limit_reached')
    .option('--billing-refusal-after <n>', 'after this many messages, refuse every request for billing')
    .option('--organizations <file>', 'JSON array of organizations and the keys that share their limits: [{"id","keys":[...],"rpm"?,"workspaces"?}] (default: every key in one)')
    .option('--unseen-rpm <n>', 'another tool of the organization spends this many requests/min, unseen by the client')
    .addOption(
      new Option('--billing-refusal <kind>', 'the refusal --billing-refusal-after gives (default credit-balance)').choices([
        'credit-balance',
        'workspace-limit',
        'billing-error',
      ]),
    )
    .addHelpText(
      'after',
      `
Example:
  $ claw-batch simulate --port 4010 --tier start --latency-ms 800 --output-tokens-per-second 80 --reply-tokens 50-300
  $ ANTHROPIC_BASE_URL=http://127.0.0.1:4010 ANTHROPIC_API_KEY=sim claw-batch run items.jsonl
See docs/simulator.md for every option and the API rule each implements.`,
    )
    .action(async (o: Raw) => {
      const { parseClassLimits, parseReplyTokens, readOrganizations, simulate } = await import('./commands/simulate.js');
      onResult(
        await simulate(
          {
            port: parsePort('--port', str(o.port)),
            host: str(o.host),
            tier: parseChoice('--tier', str(o.tier), ['start', 'build', 'scale'] as const),
            rpm: parsePositiveNumber('--rpm', str(o.rpm)),
            itpm: parsePositiveNumber('--itpm', str(o.itpm)),
            otpm: parsePositiveNumber('--otpm', str(o.otpm)),
            classLimits: parseClassLimits((o as Record<string, unknown>).classLimit as string[] | undefined),
            otpmRule: parseChoice('--otpm-rule', str(o.otpmRule), ['as-produced', 'reserve-max-tokens'] as const),
            burstSeconds: parsePositiveNumber('--burst-seconds', str(o.burstSeconds)),
            latencyMs: parseNonNegativeNumber('--latency-ms', str(o.latencyMs)),
            jitterMs: parseNonNegativeNumber('--jitter-ms', str(o.jitterMs)),
            replyTokens: parseReplyTokens(str(o.replyTokens)),
            outputTokensPerSecond: parsePositiveNumber('--output-tokens-per-second', str(o.outputTokensPerSecond)),
            cacheMinTokens: parseNonNegativeInt('--cache-min-tokens', str(o.cacheMinTokens)),
            cacheTtlScale: parsePositiveNumber('--cache-ttl-scale', str(o.cacheTtlScale)),
            faultRate: parseFraction('--fault-rate', str(o.faultRate)),
            rate500: parseFraction('--rate-500', str(o.rate500)),
            rate529: parseFraction('--rate-529', str(o.rate529)),
            dropRate: parseFraction('--drop-rate', str(o.dropRate)),
            hangRate: parseFraction('--hang-rate', str(o.hangRate)),
            invalidStructuredRate: parseFraction('--invalid-structured-rate', str(o.invalidStructuredRate)),
            stallRate: parseFraction('--stall-rate', str(o.stallRate)),
            rejectKey: str(o.rejectKey),
            batchMs: parseNonNegativeInt('--batch-ms', str(o.batchMs)),
            batchQueueLimit: parsePositiveInt('--batch-queue-limit', str(o.batchQueueLimit)),
            spendLimitAfter: parseNonNegativeInt('--spend-limit-after', str(o.spendLimitAfter)),
            billingRefusalAfter: parseNonNegativeInt('--billing-refusal-after', str(o.billingRefusalAfter)),
            billingRefusal: parseChoice('--billing-refusal', str(o.billingRefusal), ['credit-balance', 'workspace-limit', 'billing-error'] as const),
            organizations: readOrganizations(str(o.organizations)),
            unseenRpm: parsePositiveNumber('--unseen-rpm', str(o.unseenRpm)),
          },
          ctx,
        ),
      );
    });

  program
    .command('export')
    .description('write a results file as a table: one row per custom_id, the parsed answer\'s fields as columns, errors in their own')
    .argument('<results>', 'results file (JSONL) that run or poll wrote')
    .option('--csv', 'write CSV (the default)')
    .option('--jsonl', 'write JSONL, one object a row')
    .option('--fields <paths>', 'comma-separated paths into parsed, e.g. category,customer.name (default: those of the first parsed answer)')
    .option('-o, --output <file>', 'where to write (default: stdout)')
    .option('--input <file>', "the job's input: rows in its order, an item without a result as missing (default: the results file's order)")
    .option('--id-field <name>', 'with --input: the column or field that holds the custom_id')
    .option('--template <text>', 'with --input (CSV): the template the job used')
    .addOption(new Option('--format <format>', 'with --input: its format (default: from the file extension)').choices(['jsonl', 'csv']))
    .action(async (results: string, o: Raw) => {
      if (o.csv && o.jsonl) throw new UsageError('--csv and --jsonl cannot be used together');
      const fields = str(o.fields)?.split(',').map((f) => f.trim()).filter((f) => f !== '');
      if (fields !== undefined && fields.length === 0) throw new InvalidOptionError('--fields', o.fields, 'a comma-separated list of paths into parsed');
      onResult(
        await (await import('./commands/export.js')).exportResults(
          {
            results,
            format: o.jsonl ? 'jsonl' : 'csv',
            fields,
            output: str(o.output),
            input: str(o.input),
            inputFormat: parseChoice('--format', str(o.format), ['jsonl', 'csv'] as const),
            idField: str(o.idField),
            template: str(o.template),
          },
          ctx,
        ),
      );
    });

  return program;
}
