/**
 * The input layer's public face: `prepareInput` validates a whole JSONL or CSV input in one
 * streaming pass before anything is sent, and returns its summary plus `items()` to stream the
 * items again. Memory stays flat: nothing but the seen custom_ids is kept between lines.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { Item } from '../types.js';
import { CustomIdRegistry } from './custom-id.js';
import { promptChars } from './prompt-size.js';
import { readItems, type ItemSourceSpec } from './read-items.js';
import { spoolToTempFile, type Spool } from './stdin-spool.js';

export { promptChars } from './prompt-size.js';
export { CUSTOM_ID_PATTERN, positionalId } from './custom-id.js';

export interface InputSpec {
  /** File path, or `-` for stdin. */
  path: string;
  /** Default: `.csv`/`.tsv` extension → csv (tsv uses a tab delimiter), else jsonl; stdin → jsonl. */
  format?: 'jsonl' | 'csv';
  /** CSV: the user message, with `{{column}}` placeholders. */
  template?: string;
  /** CSV column / JSONL field holding the custom_id. */
  idField?: string;
  /** Fill what a record lacks (`system` only when the record has none). */
  defaults: { model?: string; max_tokens?: number; system?: string };
}

/** One model's share of an input. */
export interface ModelShare {
  items: number;
  promptChars: number;
  maxTokens: number;
}

export interface PreparedInput {
  /** Path to read (for stdin: the spooled temp file). */
  file: string;
  /** What error messages call it: the path as given, or `<stdin>`. */
  displayName: string;
  format: 'jsonl' | 'csv';
  /** Number of items. */
  count: number;
  /** sha256 hex of the input bytes (same input → same hash). */
  contentHash: string;
  /** Sum of promptChars over items (for time/cost estimates). */
  totalPromptChars: number;
  /** Sum of max_tokens over items. */
  totalMaxTokens: number;
  /** Distinct models used. */
  models: string[];
  /** Per model: how many items, and their prompt characters and max_tokens (for per-class plans and costs). */
  byModel: Record<string, ModelShare>;
  /** Streams the items again (re-reads the file; memory stays flat). */
  items(): AsyncIterable<Item>;
  /** Removes the stdin spool, if any. */
  dispose(): Promise<void>;
}

export async function prepareInput(spec: InputSpec, stdin: NodeJS.ReadableStream): Promise<PreparedInput> {
  const fromStdin = spec.path === '-';
  const displayName = fromStdin ? '<stdin>' : spec.path;
  const format = spec.format ?? (!fromStdin && /^\.(csv|tsv)$/i.test(extname(spec.path)) ? 'csv' : 'jsonl');
  if (spec.template !== undefined && format !== 'csv') {
    throw new UsageError(`--template applies to CSV input, but ${displayName} is read as JSONL (give --format csv if it is CSV)`);
  }

  let spool: Spool | undefined;
  if (fromStdin) spool = await spoolToTempFile(stdin);
  else await checkReadableFile(spec.path);
  const dispose = async () => {
    await spool?.dispose();
  };

  const source: ItemSourceSpec = {
    file: spool?.file ?? spec.path,
    displayName,
    format,
    delimiter: !fromStdin && extname(spec.path).toLowerCase() === '.tsv' ? '\t' : ',',
    template: spec.template,
    idField: spec.idField,
    defaults: spec.defaults,
  };

  try {
    const hash = createHash('sha256');
    const byModel = Object.create(null) as Record<string, ModelShare>;
    let count = 0;
    let totalPromptChars = 0;
    let totalMaxTokens = 0;
    const registry = new CustomIdRegistry();
    for await (const item of readItems(source, { registry, onChunk: (chunk) => hash.update(chunk) })) {
      count += 1;
      const chars = promptChars(item.params);
      totalPromptChars += chars;
      totalMaxTokens += item.params.max_tokens;
      const share = (byModel[item.params.model] ??= { items: 0, promptChars: 0, maxTokens: 0 });
      share.items += 1;
      share.promptChars += chars;
      share.maxTokens += item.params.max_tokens;
    }
    if (count === 0) throw new InputError(displayName, undefined, 'no items (the input is empty, or has only blank lines or a header row)');
    return {
      file: source.file,
      displayName,
      format,
      count,
      contentHash: hash.digest('hex'),
      totalPromptChars,
      totalMaxTokens,
      models: Object.keys(byModel),
      byModel,
      items: () => readItems(source),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function checkReadableFile(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(path, undefined, 'is a directory, not an input file');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(path, undefined, 'no such file');
    if (code === 'EACCES') throw new InputError(path, undefined, 'cannot read it: permission denied');
    throw new InputError(path, undefined, `cannot read it: ${(err as Error).message}`);
  }
}
