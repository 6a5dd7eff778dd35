import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { collect, itemsOf, lines, prepare, writeInput } from './temp-input.js';

const defaults = { model: 'claude-haiku-4-5', max_tokens: 100 };

describe('JSONL input', () => {
  it('turns a flat record with a prompt into a user message, passing other params through', async () => {
    const [item] = await itemsOf(
      'flat.jsonl',
      lines({ custom_id: 'a1', prompt: 'Hi', temperature: 0.2, stop_sequences: ['END'], metadata: { user_id: 'u' } }),
      { defaults },
    );
    expect(item).toEqual({
      custom_id: 'a1',
      params: {
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0.2,
        stop_sequences: ['END'],
        metadata: { user_id: 'u' },
      },
      source: { file: expect.stringMatching(/flat\.jsonl$/), line: 1 },
    });
  });

  it('takes the batch request shape as is, filling only what it lacks', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 7, messages: [{ role: 'user', content: 'x' }] };
    const items = await itemsOf('batch.jsonl', lines({ custom_id: 'b1', params }, { custom_id: 'b2', params: { messages: params.messages } }), {
      defaults: { ...defaults, system: 'Be brief.' },
    });
    expect(items[0]!.params).toEqual({ ...params, system: 'Be brief.' });
    expect(items[1]!.params).toEqual({ ...params, model: 'claude-haiku-4-5', max_tokens: 100, system: 'Be brief.' });
  });

  it('keeps a record\'s own model, max_tokens and system over the defaults', async () => {
    const [item] = await itemsOf('own.jsonl', lines({ prompt: 'p', model: 'm2', max_tokens: 5, system: 'own' }), {
      defaults: { ...defaults, system: 'default' },
    });
    expect(item!.params).toMatchObject({ model: 'm2', max_tokens: 5, system: 'own' });
  });

  it('gives records without an id a stable row-NNNNNN id by item position, the same on a second prepare', async () => {
    const path = writeInput('noids.jsonl', lines({ prompt: 'a' }, '', { custom_id: 'x', prompt: 'b' }, { prompt: 'c' }));
    const first = await collect((await prepare(path, { defaults })).items());
    const second = await collect((await prepare(path, { defaults })).items());
    expect(first.map((i) => i.custom_id)).toEqual(['row-000001', 'x', 'row-000003']);
    expect(second.map((i) => i.custom_id)).toEqual(first.map((i) => i.custom_id));
  });

  it('strips a BOM, handles CRLF, skips blank and whitespace-only lines, and reports true line numbers', async () => {
    const content = '\ufeff' + JSON.stringify({ prompt: 'one' }) + '\r\n\r\n   \t\r\n' + JSON.stringify({ prompt: 'two' }) + '\r\n';
    const items = await itemsOf('crlf.jsonl', content, { defaults });
    expect(items.map((i) => [i.source.line, i.params.messages[0]!.content])).toEqual([
      [1, 'one'],
      [4, 'two'],
    ]);
  });

  it('reads a last line without a trailing newline', async () => {
    const items = await itemsOf('tail.jsonl', `${JSON.stringify({ prompt: 'a' })}\n${JSON.stringify({ prompt: 'b' })}`, { defaults });
    expect(items).toHaveLength(2);
  });

  it('takes the custom_id from --id-field (numbers stringified) and removes that field from params', async () => {
    const items = await itemsOf('idfield.jsonl', lines({ ticket: 42, prompt: 'a' }, { ticket: 'T-7', prompt: 'b' }), {
      defaults,
      idField: 'ticket',
    });
    expect(items.map((i) => i.custom_id)).toEqual(['42', 'T-7']);
    expect(items[0]!.params).not.toHaveProperty('ticket');
  });

  it('summarises the input: count, prompt characters, max_tokens, models and a content hash', async () => {
    const content = lines({ prompt: 'abcd', system: 'xy' }, { prompt: 'ef', model: 'other', max_tokens: 7 });
    const prepared = await prepare(writeInput('summary.jsonl', content), { defaults });
    expect(prepared).toMatchObject({ count: 2, totalPromptChars: 8, totalMaxTokens: 107, format: 'jsonl' });
    expect(prepared.models.sort()).toEqual(['claude-haiku-4-5', 'other']);
    expect(prepared.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const again = await prepare(writeInput('summary-copy.jsonl', content), { defaults });
    expect(again.contentHash).toBe(prepared.contentHash);
    const changed = await prepare(writeInput('summary-changed.jsonl', content + '\n'), { defaults });
    expect(changed.contentHash).not.toBe(prepared.contentHash);
  });

  it('reads the repository fixtures', async () => {
    const tickets = await prepare('fixtures/tickets.jsonl', { defaults });
    expect(tickets.count).toBe(40);
    expect(tickets.models).toEqual(['claude-haiku-4-5']);
    const batch = await prepare('fixtures/batch-shape.jsonl', {});
    expect(batch.count).toBe(10);
    const first = (await collect(batch.items()))[0]!;
    expect(first.custom_id).toBe('req-01');
  });

  it('rejects a missing file and a directory before reading anything', async () => {
    await expect(prepare('no/such/file.jsonl')).rejects.toThrow(new InputError('no/such/file.jsonl', undefined, 'no such file'));
    await expect(prepare('fixtures')).rejects.toThrow(/fixtures: is a directory/);
  });
});
