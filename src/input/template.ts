/**
 * A CSV row's user message: `--template "Summarize: {{text}}"`, where `{{column}}` (whitespace
 * inside the braces allowed) is replaced by that column's value. Compiled once per input.
 */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export interface CompiledTemplate {
  /** The column names the template uses, in order of first use. */
  columns: string[];
  /** Fills the template; `value(name)` returns the row's value for a column the template uses. */
  fill(value: (column: string) => string): string;
}

export function compileTemplate(template: string): CompiledTemplate {
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    literals.push(template.slice(last, m.index));
    names.push(m[1]!);
    last = m.index! + m[0].length;
  }
  literals.push(template.slice(last));
  return {
    columns: [...new Set(names)],
    fill(value) {
      let out = literals[0]!;
      for (let i = 0; i < names.length; i++) out += value(names[i]!) + literals[i + 1]!;
      return out;
    },
  };
}
