/**
 * custom_id rules: the Batches API accepts `^[a-zA-Z0-9_-]{1,64}$`, and every id must be unique in
 * the input because results are keyed by it. Items without an id get a stable one from their
 * position (`row-000001`), so a rerun of the same input maps to the same ids and can resume.
 */
import { quoted } from '../quote.js';

export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

const POSITIONAL = /^row-(\d{6,})$/;

/** The id of the `index`-th item (1-based) when the record names none: `row-000001`. */
export function positionalId(index: number): string {
  return `row-${String(index).padStart(6, '0')}`;
}

/** Why `id` is not an acceptable custom_id, or undefined when it is. */
export function customIdProblem(id: string): string | undefined {
  if (CUSTOM_ID_PATTERN.test(id)) return undefined;
  return `invalid custom_id ${quoted(id)}: it must match ${CUSTOM_ID_PATTERN.source} (1-64 letters, digits, _ or -)`;
}

/**
 * The ids seen so far, to report a duplicate with the line where the id first appeared.
 *
 * Ids from the input are kept in a Map; positional ids are not, because an input of 10 million
 * rows without ids would otherwise hold 10 million strings. A positional id can only collide with
 * an explicit `row-NNNNNN` id, so for those items it is enough to remember their line by index.
 */
export class CustomIdRegistry {
  private readonly explicit = new Map<string, number>();
  /** Line of the item at each index that got a positional id; 0 where the item had its own id. */
  private positionalLines = new Uint32Array(1024);

  /** Records an id the input gave. Returns the duplicate problem, or undefined. */
  claimExplicit(id: string, line: number): string | undefined {
    const first = this.explicit.get(id);
    if (first !== undefined) return duplicate(id, first);
    const positional = this.positionalLineFor(id);
    if (positional !== undefined) {
      return `duplicate custom_id ${quoted(id)}: line ${positional} has no custom_id and got that id from its position`;
    }
    this.explicit.set(id, line);
    return undefined;
  }

  /** Records the positional id of the `index`-th item. Returns the duplicate problem, or undefined. */
  claimPositional(index: number, line: number): string | undefined {
    const id = positionalId(index);
    const first = this.explicit.get(id);
    if (first !== undefined) {
      return `no custom_id, so its id from its position is ${quoted(id)}, which line ${first} already uses`;
    }
    if (index >= this.positionalLines.length) {
      const grown = new Uint32Array(Math.max(index + 1, this.positionalLines.length * 2));
      grown.set(this.positionalLines);
      this.positionalLines = grown;
    }
    this.positionalLines[index] = line;
    return undefined;
  }

  private positionalLineFor(id: string): number | undefined {
    const m = POSITIONAL.exec(id);
    if (!m) return undefined;
    const index = Number(m[1]);
    if (positionalId(index) !== id || index >= this.positionalLines.length) return undefined;
    return this.positionalLines[index] || undefined;
  }
}

function duplicate(id: string, firstLine: number): string {
  return `duplicate custom_id ${quoted(id)}: it first appeared on line ${firstLine}`;
}
