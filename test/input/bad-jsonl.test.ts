import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { failureOf, itemsOf, lines, prepare, writeInput } from './temp-input.js';

const defaults = { model: 'claude-haiku-4-5', max_tokens: 100 };
const ok = { prompt: 'fine' };

/** The first two lines are good, so each problem must be reported on line 3 (or wherever stated). */
async function line3(record: unknown, spec = { defaults }) {
  return failureOf('bad.jsonl', lines(ok, ok, record, ok), spec);
}

describe('JSONL validation: each bad record fails with its line before anything is sent', () => {
  it('malformed JSON says what JSON.parse said', async () => {
    expect(await line3('{"prompt": "x",}')).toMatch(/bad\.jsonl:3: malformed JSON: .*JSON/);
  });

  it('a line that is not an object', async () => {
    expect(await line3('[1, 2]')).toMatch(/bad\.jsonl:3: expected a JSON object, got a list$/);
    expect(await line3('"text"')).toMatch(/bad\.jsonl:3: expected a JSON object, got "text"$/);
  });

  it('a model name of 100,000 characters is refused with a short line, in the record or from --model', async () => {
    const long = 'claude-' + 'x'.repeat(100_000);
    const message = await line3({ prompt: 'x', model: long });
    expect(message).toMatch(/^.*bad\.jsonl:3: "model" is 100,007 characters long \("claude-x+…x+" \(100,007 characters\)\); model names have at most 256$/);
    expect(message.length).toBeLessThan(400);
    expect(await failureOf('flag.jsonl', lines(ok), { defaults: { ...defaults, model: long } })).toMatch(/flag\.jsonl:1: "model" \(from --model, CLAW_BATCH_MODEL or the config\) is 100,007 characters long/);
  });

  it('an invalid custom_id shows the id and the rule', async () => {
    const message = await line3({ custom_id: 'has space', prompt: 'x' });
    expect(message).toContain('bad.jsonl:3: invalid custom_id "has space"');
    expect(message).toContain('^[a-zA-Z0-9_-]{1,64}$');
    expect(await line3({ custom_id: 'x'.repeat(65), prompt: 'x' })).toMatch(/:3: invalid custom_id/);
    expect(await line3({ custom_id: '', prompt: 'x' })).toMatch(/:3: invalid custom_id ""/);
  });

  it('a duplicate custom_id names the line where it first appeared', async () => {
    const message = await failureOf('dup.jsonl', lines({ custom_id: 'a', prompt: 'x' }, ok, '', { custom_id: 'a', prompt: 'y' }), {
      defaults,
    });
    expect(message).toMatch(/dup\.jsonl:4: duplicate custom_id "a": it first appeared on line 1$/);
  });

  it('an explicit id that equals another item\'s positional id is a duplicate, either way round', async () => {
    expect(await failureOf('pos1.jsonl', lines(ok, { custom_id: 'row-000001', prompt: 'x' }), { defaults })).toMatch(
      /pos1\.jsonl:2: duplicate custom_id "row-000001": line 1 has no custom_id/,
    );
    expect(await failureOf('pos2.jsonl', lines({ custom_id: 'row-000002', prompt: 'x' }, ok), { defaults })).toMatch(
      /pos2\.jsonl:2: no custom_id, so its id from its position is "row-000002", which line 1 already uses/,
    );
  });

  it('no prompt or messages, and both', async () => {
    expect(await line3({ custom_id: 'c' })).toMatch(/:3: no prompt: give "prompt"/);
    expect(await line3({ prompt: 'x', messages: [{ role: 'user', content: 'y' }] })).toMatch(/:3: has both "prompt" and "messages"/);
    expect(await line3({ prompt: '  ' })).toMatch(/:3: "prompt" is empty/);
  });

  it('missing model or max_tokens after defaults tells how to give one', async () => {
    expect(await failureOf('nomodel.jsonl', lines({ prompt: 'x', max_tokens: 5 }), { defaults: {} })).toMatch(
      /nomodel\.jsonl:1: no model: give --model, set "model" in the record, or set it in the config$/,
    );
    expect(await failureOf('nomax.jsonl', lines({ prompt: 'x' }), { defaults: { model: 'm' } })).toMatch(
      /nomax\.jsonl:1: no max_tokens: give --max-tokens, set "max_tokens" in the record, or set it in the config$/,
    );
  });

  it('names a missing model and max_tokens in one message, not one per try', async () => {
    expect(await failureOf('neither.jsonl', lines({ prompt: 'x' }), { defaults: {} })).toMatch(
      /neither\.jsonl:1: no model and no max_tokens: give --model and --max-tokens, set "model" and "max_tokens" in the record, or set them in the config$/,
    );
  });

  it('max_tokens that is not a positive whole number', async () => {
    expect(await line3({ prompt: 'x', max_tokens: 0 })).toMatch(/:3: "max_tokens" must be a positive whole number, got 0$/);
    expect(await line3({ prompt: 'x', max_tokens: '100' })).toMatch(/:3: "max_tokens" must be a positive whole number, got "100"$/);
    expect(await line3({ prompt: 'x', max_tokens: 1.5 })).toMatch(/:3: "max_tokens" must be a positive whole number/);
  });

  it('messages that are not a non-empty list, or do not start with the user', async () => {
    expect(await line3({ messages: [] })).toMatch(/:3: "messages" must be a non-empty list, got an empty list$/);
    expect(await line3({ messages: 'hi' })).toMatch(/:3: "messages" must be a non-empty list/);
    expect(await line3({ messages: [{ role: 'assistant', content: 'x' }] })).toMatch(/:3: messages\[0\]\.role is "assistant": the first message must be from the user/);
    expect(await line3({ messages: [{ role: 'system', content: 'x' }] })).toMatch(/:3: messages\[0\]\.role must be "user" or "assistant", got "system" \(put the system prompt in "system"\)/);
  });

  it('a flat record with a key that is not a Messages parameter, suggesting the one meant', async () => {
    expect(await line3({ prompt: 'a', modle: 'x' })).toMatch(
      /bad\.jsonl:3: unknown key "modle" \(did you mean "model"\?\): not a Messages API parameter, so the API would reject the request$/,
    );
    expect(await line3({ prompt: 'a', max_token: 5 })).toMatch(/:3: unknown key "max_token" \(did you mean "max_tokens"\?\)/);
    expect(await line3({ prompt: 'a', Temperature: 0 })).toMatch(/:3: unknown key "Temperature" \(did you mean "temperature"\?\)/);
    expect(await line3({ customid: 'c', prompt: 'a' })).toMatch(/:3: unknown key "customid" \(did you mean "custom_id"\?\)/);
    // Nothing within two edits: no guess.
    expect(await line3({ prompt: 'a', priority: 'high' })).toMatch(/:3: unknown key "priority": not a Messages API parameter/);
    expect(await line3({ prompt: 'a', modle: 'x', colour: 'red' })).toMatch(
      /:3: unknown keys "modle" \(did you mean "model"\?\), "colour": not Messages API parameters/,
    );
  });

  it('"stream" is a known parameter but refused unless false', async () => {
    expect(await line3({ prompt: 'a', stream: true })).toMatch(/:3: "stream" is not supported: claw-batch collects whole messages$/);
    const [item] = await itemsOf('nostream.jsonl', lines({ prompt: 'a', stream: false }), { defaults });
    expect(item!.params).toMatchObject({ stream: false });
  });

  it('a flat record may hold the --id-field, and every Messages parameter', async () => {
    const every = {
      ticket: 't1', custom_id: 'ignored', prompt: 'a', system: 's', model: 'm', max_tokens: 5, temperature: 0, top_p: 1,
      top_k: 5, stop_sequences: ['x'], metadata: {}, tools: [], tool_choice: { type: 'auto' }, thinking: { type: 'disabled' },
      service_tier: 'auto', container: 'c', output_config: {}, cache_control: { type: 'ephemeral' }, inference_geo: 'us',
      diagnostics: {}, speed: 'standard', stream: false, user_profile_id: 'u', workspace_id: 'w',
    };
    const [item] = await itemsOf('every.jsonl', lines(every), { defaults, idField: 'ticket' });
    expect(item!.custom_id).toBe('t1');
    expect(Object.keys(item!.params).sort()).toEqual(
      Object.keys(every).filter((k) => !['ticket', 'custom_id', 'prompt'].includes(k)).concat('messages').sort(),
    );
  });

  it('a batch-shape record passes "params" through as the raw API body', async () => {
    const [item] = await itemsOf('raw.jsonl', lines({ custom_id: 'r', params: { messages: [{ role: 'user', content: 'x' }], new_api_field: 1 } }), {
      defaults,
    });
    expect(item!.params).toMatchObject({ new_api_field: 1 });
    expect(await line3({ custom_id: 'z', params: { prompt: 'x' }, model: 'm' })).toMatch(
      /:3: unexpected key "model" next to "params": .*Messages parameters go inside "params"/,
    );
    expect(await line3({ custom_ib: 'z', params: { prompt: 'x' } })).toMatch(/:3: unexpected key "custom_ib" \(did you mean "custom_id"\?\) next to "params"/);
  });

  it('a batch-shape record with a key other than custom_id and params', async () => {
    expect(await line3({ custom_id: 'z', params: { prompt: 'x' }, extra: 1 })).toMatch(/:3: unexpected key "extra" next to "params"/);
    expect(await line3({ custom_id: 'z', params: 'x' })).toMatch(/:3: "params" must be an object/);
  });

  it('a record without the --id-field field', async () => {
    const content = lines({ ticket: 'a', prompt: 'x' }, { ticket: 'b', prompt: 'x' }, { prompt: 'x' });
    expect(await failureOf('idfield.jsonl', content, { defaults, idField: 'ticket' })).toMatch(
      /idfield\.jsonl:3: no "ticket" field \(named by --id-field\)/,
    );
  });

  it('finds a bad line far into a large file', async () => {
    const good = JSON.stringify({ prompt: 'fine' }) + '\n';
    const path = writeInput('late.jsonl', good.repeat(89_999) + '{"prompt": 1}\n' + good.repeat(10));
    await expect(prepare(path, { defaults })).rejects.toThrow(/late\.jsonl:90000: "prompt" must be a string, got 1$/);
  });

  it('an input with no items', async () => {
    expect(await failureOf('empty.jsonl', '')).toMatch(/empty\.jsonl: no items/);
    expect(await failureOf('blank.jsonl', '\n  \n\r\n')).toMatch(/blank\.jsonl: no items/);
  });

  it('--template on JSONL input is a usage error', async () => {
    await expect(prepare(writeInput('t.jsonl', lines(ok)), { defaults, template: '{{x}}' })).rejects.toBeInstanceOf(UsageError);
  });
});
