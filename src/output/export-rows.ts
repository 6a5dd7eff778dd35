/**
 * A result line as a table row for `claw-batch export`: custom_id, how it ended, the parsed
 * answer's fields (dotted paths into `parsed`, e.g. `customer.name`), and the error in its own two
 * columns. A field that holds an object or a list is written as its JSON.
 */
import type { ResultLine } from '../types.js';

export const LEAD_COLUMNS = ['custom_id', 'status'] as const;
export const ERROR_COLUMNS = ['error_type', 'error_message'] as const;

export type Row = Record<string, string | number | boolean | null>;

/** The dotted paths of an object's leaves: `{a: 1, b: {c: 2}}` → `a`, `b.c`. Lists are leaves. */
export function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return prefix === '' ? [] : [prefix];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) out.push(...leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
  return out.length === 0 && prefix !== '' ? [prefix] : out;
}

function at(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function cell(v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return v as string | number | boolean;
}

/** The row of one result line; `fields` are the dotted paths of `parsed` to take. */
export function rowOf(line: ResultLine, fields: readonly string[]): Row {
  const row: Row = { custom_id: line.custom_id, status: line.result.type };
  for (const f of fields) row[f] = cell(at(line.parsed, f));
  const error = line.result.type === 'errored' ? line.result.error?.error : undefined;
  row.error_type = error?.type ?? null;
  row.error_message = error?.message ?? null;
  return row;
}

/** A row for an input item the results file has no line for (still pending, or never run). */
export function missingRow(customId: string, fields: readonly string[]): Row {
  const row: Row = { custom_id: customId, status: 'missing' };
  for (const f of fields) row[f] = null;
  row.error_type = null;
  row.error_message = null;
  return row;
}
