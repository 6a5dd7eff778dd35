/**
 * The prompt as the API caches it: blocks in prompt order (tools → system → messages), each with
 * its token count, and the cache breakpoints among them. A breakpoint is a `cache_control` on a
 * tool definition, a system text block or a message content block; a top-level `cache_control`
 * (automatic caching) puts one on the last block of the prompt.
 *
 * Token counting is deterministic and roughly the real tokenizer's magnitude: ceil(chars / 4) of a
 * text block, ceil(JSON length / 4) of a tool definition or any other block (without its
 * `cache_control`), plus 4 per message for the role framing, counted with the message's first
 * block. The total is the sum, so a cached prefix's tokens are the sum up to its breakpoint block.
 */

export type CacheTtl = '5m' | '1h';

export interface Breakpoint {
  /** Index of the block the breakpoint is on. */
  block: number;
  ttl: CacheTtl;
}

export interface PromptLayout {
  /** Tokens of each block, in prompt order. */
  tokens: number[];
  total: number;
  /** In block order, at most one per block. */
  breakpoints: Breakpoint[];
  /** The canonical text of block `i` (what a cache key hashes), without `cache_control`. */
  canonical(i: number): string;
}

/** The parts of Messages params the layout reads. */
export interface LayoutParams {
  tools?: unknown;
  system?: unknown;
  messages?: unknown;
  cache_control?: unknown;
}

const MESSAGE_FRAMING_TOKENS = 4;

type Block = Record<string, unknown>;

function withoutCacheControl(block: Block): Block {
  if (!('cache_control' in block)) return block;
  const { cache_control: _ignored, ...rest } = block;
  return rest;
}

function ttlOf(cacheControl: unknown): CacheTtl | undefined {
  if (!cacheControl || typeof cacheControl !== 'object') return undefined;
  return (cacheControl as { ttl?: unknown }).ttl === '1h' ? '1h' : '5m';
}

function blockTokens(block: unknown): number {
  if (typeof block === 'string') return Math.ceil(block.length / 4);
  const b = block as Block | null;
  if (b && b.type === 'text' && typeof b.text === 'string') return Math.ceil(b.text.length / 4);
  return Math.ceil(JSON.stringify(b && typeof b === 'object' ? withoutCacheControl(b) : b).length / 4);
}

function canonicalBlock(section: string, block: unknown): string {
  const b = typeof block === 'string' ? { type: 'text', text: block } : block && typeof block === 'object' ? withoutCacheControl(block as Block) : block;
  return `${section}\u0000${JSON.stringify(b)}`;
}

export function promptLayout(params: LayoutParams): PromptLayout {
  const tokens: number[] = [];
  const sections: string[] = [];
  const blocks: unknown[] = [];
  const breakpoints: Breakpoint[] = [];
  const add = (section: string, block: unknown, extraTokens = 0) => {
    const ttl = block && typeof block === 'object' ? ttlOf((block as Block).cache_control) : undefined;
    if (ttl) breakpoints.push({ block: tokens.length, ttl });
    tokens.push(blockTokens(block) + extraTokens);
    sections.push(section);
    blocks.push(block);
  };
  if (Array.isArray(params.tools)) for (const tool of params.tools) add('tool', tool);
  if (typeof params.system === 'string') {
    if (params.system !== '') add('system', params.system);
  } else if (Array.isArray(params.system)) {
    for (const block of params.system) add('system', block);
  } else if (params.system !== undefined && params.system !== null) {
    add('system', params.system);
  }
  const messages = Array.isArray(params.messages) ? (params.messages as { role?: unknown; content?: unknown }[]) : [];
  messages.forEach((m, i) => {
    const section = `message ${i} ${String(m?.role)}`;
    const content = m?.content;
    if (Array.isArray(content) && content.length > 0) {
      content.forEach((block, j) => add(section, block, j === 0 ? MESSAGE_FRAMING_TOKENS : 0));
    } else {
      add(section, Array.isArray(content) ? '' : (content ?? ''), MESSAGE_FRAMING_TOKENS);
    }
  });
  const automatic = ttlOf(params.cache_control);
  const last = tokens.length - 1;
  if (automatic && last >= 0 && breakpoints.at(-1)?.block !== last) breakpoints.push({ block: last, ttl: automatic });
  let total = 0;
  for (const t of tokens) total += t;
  return { tokens, total, breakpoints, canonical: (i) => canonicalBlock(sections[i]!, blocks[i]) };
}

/**
 * The simulator's input-token count of a prompt (at least 1): what count_tokens answers, and the
 * sum of `input_tokens`, `cache_creation_input_tokens` and `cache_read_input_tokens`.
 */
export function countTokens(params: LayoutParams): number {
  return Math.max(1, promptLayout(params).total);
}
