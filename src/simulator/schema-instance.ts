/**
 * Structured answers: for a request with `output_config.format` of type `json_schema`, the
 * simulator answers with JSON that the schema accepts, built from the schema and the prompt's key
 * (the same prompt, the same answer). With `invalidStructuredRate` some answers are not: half of
 * them not JSON at all (as an answer cut short would be), half JSON that breaks the schema.
 */
type Schema = Record<string, unknown>;

/** The schema a request asks for, or undefined. */
export function structuredSchema(params: { output_config?: unknown }): Schema | undefined {
  const format = (params.output_config as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  return format?.type === 'json_schema' && typeof format.schema === 'object' && format.schema !== null ? (format.schema as Schema) : undefined;
}

/** A value `schema` accepts; `seed` (hex) varies the picks, so different prompts get different answers. */
export function instanceOf(schema: Schema, seed: string, root: Schema = schema, depth = 0): unknown {
  if (depth > 8) return null;
  const pick = (n: number, salt: number) => (n <= 0 ? 0 : (parseInt(seed.slice(salt % 8, (salt % 8) + 6) || '0', 16) + depth) % n);
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(root, schema.$ref);
    return target ? instanceOf(target, seed, root, depth + 1) : null;
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[pick(schema.enum.length, 1)];
  for (const k of ['anyOf', 'oneOf'] as const) {
    const options = schema[k];
    if (Array.isArray(options) && options.length > 0) return instanceOf(options[0] as Schema, seed, root, depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return instanceOf(Object.assign({}, ...(schema.allOf as Schema[])) as Schema, seed, root, depth + 1);
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type ?? (schema.properties ? 'object' : 'string')];
  const type = types.find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const [name, sub] of Object.entries(props)) out[name] = instanceOf(sub, seed, root, depth + 1);
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      const max = typeof schema.maxItems === 'number' ? schema.maxItems : min + 2;
      const n = Math.min(max, min + pick(Math.max(1, max - min + 1), 3));
      const items = (typeof schema.items === 'object' && schema.items !== null ? schema.items : {}) as Schema;
      return Array.from({ length: n }, (_, i) => instanceOf(items, seed.slice(i % 4) + seed.slice(0, i % 4), root, depth + 1));
    }
    case 'integer':
    case 'number': {
      const lo = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 0;
      const hi = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : lo + 100;
      return Math.ceil(lo) + pick(Math.max(1, Math.floor(hi) - Math.ceil(lo) + 1), 5);
    }
    case 'boolean':
      return pick(2, 2) === 1;
    case 'null':
      return null;
    default:
      return stringFor(schema, seed);
  }
}

function stringFor(schema: Schema, seed: string): string {
  switch (schema.format) {
    case 'date':
      return '2026-01-15';
    case 'date-time':
      return '2026-01-15T10:00:00Z';
    case 'email':
      return `user-${seed.slice(0, 6)}@example.com`;
    case 'uri':
      return `https://example.com/${seed.slice(0, 8)}`;
    case 'uuid':
      return `${seed.slice(0, 8)}-0000-4000-8000-000000000000`.padEnd(36, '0');
  }
  let text = `sim ${seed.slice(0, 8)}`;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  while (text.length < min) text += ' lorem';
  return text.slice(0, max);
}

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let at: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return typeof at === 'object' && at !== null ? (at as Schema) : undefined;
}

/** An answer the schema refuses: not JSON (odd `variant`), or JSON of the wrong shape (even). */
export function invalidAnswerFor(schema: Schema, seed: string, variant: number): string {
  const valid = JSON.stringify(instanceOf(schema, seed));
  // A union or a reference at the top has no one wrong shape to give: those get the cut-off JSON.
  const composite = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'if'].some((k) => k in schema);
  if (variant % 2 === 1 || composite) return valid.slice(0, Math.max(1, valid.length - 2));
  const type = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (type.includes('object') || schema.properties) {
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const value = instanceOf(schema, seed) as Record<string, unknown>;
    if (required.length > 0) {
      delete value[required[0]!];
      return JSON.stringify(value);
    }
    return '[]';
  }
  return type.includes('string') ? '42' : '"not what the schema asks for"';
}
