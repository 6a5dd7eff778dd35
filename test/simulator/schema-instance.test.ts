import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { instanceOf, invalidAnswerFor } from '../../src/simulator/schema-instance.js';

const ajv = new Ajv2020({ strict: false });
const schemas: Record<string, Record<string, unknown>> = {
  flat: { type: 'object', properties: { a: { type: 'string', enum: ['x', 'y'] }, n: { type: 'integer', minimum: 3, maximum: 5 } }, required: ['a', 'n'], additionalProperties: false },
  nested: {
    type: 'object',
    properties: { who: { type: 'object', properties: { name: { type: 'string', minLength: 12 }, email: { type: 'string', format: 'email' } }, required: ['name'] }, ok: { type: 'boolean' } },
    required: ['who'],
  },
  refs: { $defs: { tag: { type: 'string', maxLength: 5 } }, type: 'array', items: { $ref: '#/$defs/tag' }, minItems: 2 },
  union: { anyOf: [{ type: 'number', exclusiveMinimum: 10 }, { type: 'string' }] },
  nullable: { type: ['null', 'string'], const: 'fixed' },
};

describe('simulated structured answers', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`answers the ${name} schema with JSON it accepts, and can answer with JSON it refuses`, () => {
      const validate = ajv.compile(schema);
      for (const seed of ['0123456789abcdef', 'fedcba9876543210', 'a1b2c3d4e5f60718']) {
        expect(validate(instanceOf(schema, seed))).toBe(true);
        for (const variant of [0, 1]) {
          const text = invalidAnswerFor(schema, seed, variant);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            continue; // not JSON: refused
          }
          expect(validate(parsed)).toBe(false);
        }
      }
    });
  }
});
