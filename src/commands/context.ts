/**
 * What a command needs from the process, passed in so a test can call a command function directly.
 * Results go to `stdout`; progress, logs and summaries to `stderr`, always.
 */
export interface CommandContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processContext(): CommandContext {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** The input flags `run` and `submit` share. */
export interface InputFlags {
  /** Input path, or `-` for stdin. */
  input: string;
  /** `jsonl` or `csv`. Default: from the file extension (`.csv`/`.tsv` → csv), else jsonl. */
  format?: 'jsonl' | 'csv';
  model?: string;
  maxTokens?: number;
  system?: string;
  /** `--schema FILE`: the JSON Schema every answer must follow (docs/structured.md). */
  schema?: string;
  /** CSV: the user message, with `{{column}}` placeholders. */
  template?: string;
  /** CSV/JSONL: the column or field that holds the custom_id. */
  idField?: string;
  /** Config file. Default: `./claw-batch.config.yaml` (or `.yml`/`.json`) when present. */
  config?: string;
}
