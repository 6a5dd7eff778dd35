import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages/messages';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FLAT_RECORD_KEYS, MESSAGES_PARAM_KEYS, UNTYPED_PARAM_KEYS } from '../../src/input/record-to-item.js';
import { failureOf, itemsOf, lines } from './temp-input.js';

const defaults = { model: 'claude-sonnet-5', max_tokens: 100 };

describe('which keys a flat record may hold', () => {
  it('passes inference_geo through to the request', async () => {
    const [item] = await itemsOf('geo.jsonl', lines({ prompt: 'Hi', inference_geo: 'us' }), { defaults });
    expect(item!.params).toMatchObject({ inference_geo: 'us', messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('passes a top-level cache_control (automatic prompt caching) through to the request', async () => {
    const record = { prompt: 'Hi', system: 'A long shared prefix.', cache_control: { type: 'ephemeral', ttl: '1h' } };
    const [item] = await itemsOf('auto-cache.jsonl', lines(record), { defaults });
    expect(item!.params).toMatchObject({ cache_control: { type: 'ephemeral', ttl: '1h' }, system: 'A long shared prefix.' });
  });

  it('still refuses a typo, with the key it probably meant', async () => {
    expect(await failureOf('typo.jsonl', lines({ prompt: 'a', inference_goe: 'us' }), { defaults })).toMatch(
      /typo\.jsonl:1: unknown key "inference_goe" \(did you mean "inference_geo"\?\): not a Messages API parameter, so the API would reject the request$/,
    );
    expect(await failureOf('typo.jsonl', lines({ prompt: 'a', cache_contrl: {} }), { defaults })).toMatch(/did you mean "cache_control"\?/);
  });

  it('refuses a beta-only parameter with its reason: claw-batch sends no anthropic-beta header', async () => {
    expect(await failureOf('beta.jsonl', lines({ prompt: 'a', mcp_servers: [] }), { defaults })).toMatch(
      /beta\.jsonl:1: "mcp_servers" is a beta Messages parameter: it needs an anthropic-beta header, which claw-batch does not send, so the API would reject the request$/,
    );
    expect(await failureOf('beta.jsonl', lines({ prompt: 'a', context_management: {} }), { defaults })).toMatch(/"context_management" is a beta Messages parameter/);
  });

  it('keeps the sampling parameters, which the API still takes on the older models', async () => {
    const [item] = await itemsOf('sampling.jsonl', lines({ prompt: 'a', model: 'claude-haiku-4-5', temperature: 0, top_p: 0.9, top_k: 40 }), { defaults });
    expect(item!.params).toMatchObject({ temperature: 0, top_p: 0.9, top_k: 40 });
  });

  it('lists exactly the SDK\'s Messages parameters, plus custom_id, prompt, schema and the sampling ones', () => {
    // The build-time checks in record-to-item.ts are what fail on drift; this pins the same at typecheck.
    expectTypeOf<(typeof MESSAGES_PARAM_KEYS)[number]>().toEqualTypeOf<keyof MessageCreateParamsBase>();
    expect([...FLAT_RECORD_KEYS].sort()).toEqual(['custom_id', 'prompt', 'schema', ...MESSAGES_PARAM_KEYS, ...UNTYPED_PARAM_KEYS].sort());
    expect(new Set(FLAT_RECORD_KEYS).size).toBe(FLAT_RECORD_KEYS.length);
  });
});
