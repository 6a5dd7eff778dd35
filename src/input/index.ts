/**
 * The input layer's public face: `prepareInput` validates a whole JSONL or CSV input in one
 * streaming pass before anything is sent, and returns its summary plus `items()` to stream the
 * items again. Memory stays flat: nothing but the seen custom_ids is kept between lines.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { Item } from '../types.js';
import type { ItemDefaults } from './record-to-item.js';
import { CustomIdRegistry } from './custom-id.js';
import { promptChars } from './prompt-size.js';
import { openInputSource, type FileIdentity } from './input-source.js';
import { readItems, type ItemSourceSpec } from './read-items.js';

export { promptChars } from './prompt-size.js';
export { CUSTOM_ID_PATTERN, positionalId } from './custom-id.js';
export type { FileIdentity } from './input-source.js';

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
  defaults: ItemDefaults;
}

/** One model's share of an input. */
export interface ModelShare {
  items: number;
  promptChars: number;
  maxTokens: number;
}

export interface PreparedInput {
  /** Path to read (for stdin, a FIFO or a pipe: the spooled temp file). */
  file: string;
  /**
   * True when the input could be read only once (stdin, a FIFO, `<(...)`) and `file` is a temp
   * copy: a later command cannot read it again from its path.
   */
  readOnce: boolean;
  /** The regular file the input is, if it is one, so an output can be refused for being the input. */
  identity: FileIdentity | undefined;
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
  /** Removes the temp copy, if any. */
  dispose(): Promise<void>;
}

/**
 * The items of a regular file in order, read once without the validating pass (no duplicate-id
 * check, no hash, no summary): for reading back the custom_ids of an input a job already took
 * (`export --input`). Memory stays flat.
 */
export function streamItems(spec: InputSpec): AsyncIterable<Item> {
  const format = spec.format ?? (/^\.(csv|tsv)$/i.test(extname(spec.path)) ? 'csv' : 'jsonl');
  return readItems({
    file: spec.path,
    displayName: spec.path,
    format,
    delimiter: extname(spec.path).toLowerCase() === '.tsv' ? '\t' : ',',
    template: spec.template,
    idField: spec.idField,
    defaults: spec.defaults,
  });
}

export async function prepareInput(spec: InputSpec, stdin: NodeJS.ReadableStream): Promise<PreparedInput> {
  const fromStdin = spec.path === '-';
  const displayName = fromStdin ? '<stdin>' : spec.path;
  const format = spec.format ?? (!fromStdin && /^\.(csv|tsv)$/i.test(extname(spec.path)) ? 'csv' : 'jsonl');
  if (spec.template !== undefined && format !== 'csv') {
    throw new UsageError(`--template applies to CSV input, but ${displayName} is read as JSONL (give --format csv if it is CSV)`);
  }

  const input = await openInputSource(spec.path, displayName, stdin);
  const dispose = () => input.dispose();

  const source: ItemSourceSpec = {
    file: input.file,
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
      readOnce: input.readOnce,
      identity: input.identity,
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
