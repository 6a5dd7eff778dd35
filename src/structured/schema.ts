/**
 * JSON Schemas for structured answers: checked once when they are read (a schema Ajv cannot compile
 * is exit 2 before anything is sent), compiled once per distinct schema, and used to validate every
 * answer. Ajv (draft 2020-12 keywords too) with ajv-formats, so `"format": "date"` is checked rather
 * than ignored.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { ConfigError } from '../errors.js';

export type JsonSchema = Record<string, unknown>;

/**
 * One Ajv instance for the process, loaded with the first schema: a run without one does not carry
 * Ajv's code (both are CommonJS, so a synchronous require). `strict: false`: the schemas users
 * write for the API carry keys Ajv's strict mode refuses (`title` beside `$ref`, unknown `x-`
 * annotations) and the API accepts.
 */
let ajv: Ajv2020 | undefined;
function theAjv(): Ajv2020 {
  if (ajv) return ajv;
  const require = createRequire(import.meta.url);
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  // ajv-formats is `module.exports = formatsPlugin`.
  const addFormats = require('ajv-formats') as (instance: Ajv2020) => Ajv2020;
  ajv = addFormats(new Ajv({ allErrors: false, strict: false, validateSchema: true }));
  return ajv;
}

/** Compiled validators by the schema's JSON text: one input has one or a few schemas, read many times. */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 256;

/** Why `schema` is not a JSON Schema Ajv can compile, or undefined when it is. */
export function schemaProblem(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return `a JSON Schema must be an object, got ${Array.isArray(schema) ? 'a list' : schema === null ? 'null' : typeof schema}`;
  }
  try {
    validatorFor(schema as JsonSchema);
    return undefined;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

/** The compiled validator of `schema` (throws when it does not compile). */
export function validatorFor(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate) return validate;
  // A schema with an $id can be added once only; compile a copy without it so reruns and equal
  // schemas in many items never collide.
  const { $id: _id, ...anonymous } = schema;
  validate = theAjv().compile(anonymous);
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, validate);
  return validate;
}

/** The validator's first complaint as one line: `/urgency must be equal to one of the allowed values (low, high)`. */
export function describeErrors(validate: ValidateFunction): string {
  const e = validate.errors?.[0];
  if (!e) return 'does not match the schema';
  const where = e.instancePath === '' ? 'the answer' : e.instancePath;
  const allowed = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : '';
  const more = (validate.errors?.length ?? 0) > 1 ? ` (and ${validate.errors!.length - 1} more)` : '';
  return `${where} ${e.message ?? 'is invalid'}${allowed}${more}`;
}

/** Reads and checks `--schema FILE` / config `schema:`. `name` is the path as the user gave it. */
export async function loadSchemaFile(path: string, name: string = path): Promise<JsonSchema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(name, undefined, code === 'ENOENT' ? 'no such schema file' : `cannot read the schema: ${(err as Error).message}`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(name, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  const problem = schemaProblem(schema);
  if (problem) throw new ConfigError(name, undefined, problem);
  return schema as JsonSchema;
}
