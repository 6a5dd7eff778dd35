import { describe, expect, it } from 'vitest';
import { collect, failureOf, itemsOf, prepare } from './temp-input.js';

const defaults = { model: 'claude-haiku-4-5', max_tokens: 50 };
const userText = (i: { params: { messages: { content: unknown }[] } }) => i.params.messages[0]!.content;

describe('CSV input', () => {
  it('fills the template from each row, with quoted commas, newlines and doubled quotes, and the start line of each row', async () => {
    const csv = [
      'id,subject,text',
      'a1,"Hello, there","line one',
      'line two ""quoted"""',
      '',
      'a2,plain,short',
    ].join('\r\n');
    const items = await itemsOf('t.csv', csv, { defaults, idField: 'id', template: 'S: {{ subject }} / {{text}}' });
    expect(items.map((i) => [i.custom_id, i.source.line, userText(i)])).toEqual([
      ['a1', 2, 'S: Hello, there / line one\r\nline two "quoted"'],
      ['a2', 5, 'S: plain / short'],
    ]);
    expect(items[0]!.params).toEqual({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: expect.any(String) }] });
  });

  it('keeps line numbers true after many rows with CRLF inside quoted fields', async () => {
    const rows = ['id,text'];
    for (let i = 1; i <= 5; i++) rows.push(`r${i},"a\r\nb\r\nc"`);
    rows.push('r6,last');
    const items = await itemsOf('multi.csv', `\ufeff${rows.join('\r\n')}\r\n`, { defaults, idField: 'id', template: '{{text}}' });
    expect(items.map((i) => i.source.line)).toEqual([2, 5, 8, 11, 14, 17]);
  });

  it('uses a prompt column when there is no template, and a custom_id column when there is no --id-field', async () => {
    const items = await itemsOf('p.csv', 'custom_id,prompt,ignored\nc1,Say hi,zzz\nc2,Say bye,yyy\n', { defaults });
    expect(items.map((i) => [i.custom_id, userText(i)])).toEqual([
      ['c1', 'Say hi'],
      ['c2', 'Say bye'],
    ]);
  });

  it('gives rows without an id column stable row-NNNNNN ids', async () => {
    const items = await itemsOf('noid.csv', 'prompt\nx\ny\n', { defaults });
    expect(items.map((i) => i.custom_id)).toEqual(['row-000001', 'row-000002']);
  });

  it('reads .tsv files with a tab delimiter', async () => {
    const items = await itemsOf('t.tsv', 'id\ttext\nk1\thas, comma\n', { defaults, idField: 'id', template: '<{{text}}>' });
    expect(userText(items[0]!)).toBe('<has, comma>');
  });

  it('applies the system default to CSV rows', async () => {
    const [item] = await itemsOf('sys.csv', 'prompt\nx\n', { defaults: { ...defaults, system: 'Be terse.' } });
    expect(item!.params.system).toBe('Be terse.');
  });

  it('reads the repository fixture', async () => {
    const prepared = await prepare('fixtures/tickets.csv', { defaults, idField: 'id', template: 'Classify: {{subject}}\n\n{{text}}' });
    expect(prepared.count).toBe(30);
    expect(prepared.format).toBe('csv');
    const items = await collect(prepared.items());
    expect(items[1]).toMatchObject({ custom_id: 'T002', source: { line: 3 } });
    expect(userText(items[1]!)).toBe('Classify: Export broken\n\nThe export button does nothing in Safari 17.\nIt works in Chrome.');
    expect(items[2]!.source.line).toBe(5);
  });
});

describe('CSV validation', () => {
  it('an unterminated quote, on the line where its row starts', async () => {
    expect(await failureOf('q.csv', 'id,text\na,ok\n\nb,"never closed\nmore\n', { defaults, template: '{{text}}' })).toMatch(
      /q\.csv:4: a quoted field starting in this row is never closed/,
    );
  });

  it('a column the template or --id-field uses, twice in the header; an unused duplicate is fine', async () => {
    expect(await failureOf('d.csv', 'id,text,id\nr1,a,r2\n', { defaults, template: '{{text}} {{id}}', idField: 'id' })).toMatch(
      /d\.csv:1: the header has the column "id" twice \(fields 1 and 3\); rename one$/,
    );
    const items = await itemsOf('u.csv', 'id,text,note,note\nr1,a,x,y\n', { defaults, template: '{{text}}', idField: 'id' });
    expect(items.map((i) => i.custom_id)).toEqual(['r1']);
  });

  it('a row with the wrong number of fields', async () => {
    expect(await failureOf('r.csv', 'id,text\na,ok\nb,"x\ny"\nc,too,many\n', { defaults, template: '{{text}}' })).toMatch(
      /r\.csv:5: expected 2 fields like the header, got 3$/,
    );
  });

  it('a quote in the middle of a field', async () => {
    expect(await failureOf('m.csv', 'id,text\na,ok\nb,"x"y\n', { defaults, template: '{{text}}' })).toMatch(/m\.csv:3: a quote in the middle/);
  });

  it('a template placeholder naming a column the header lacks, on line 1', async () => {
    expect(await failureOf('h.csv', 'id,subject,text\na,b,c\n', { defaults, template: '{{ body }}' })).toMatch(
      /h\.csv:1: --template uses \{\{body\}\}, but the header has no such column; it has "id", "subject", "text"$/,
    );
  });

  it('no template and no prompt column', async () => {
    expect(await failureOf('n.csv', 'id,text\na,b\n', { defaults })).toMatch(/n\.csv:1: no --template and no "prompt" column/);
  });

  it('an --id-field naming no column', async () => {
    expect(await failureOf('i.csv', 'id,text\na,b\n', { defaults, idField: 'key', template: '{{text}}' })).toMatch(
      /i\.csv:1: --id-field "key" names no column/,
    );
  });

  it('an invalid or duplicate id cell', async () => {
    expect(await failureOf('d.csv', 'id,text\na,x\nb,y\na,z\n', { defaults, idField: 'id', template: '{{text}}' })).toMatch(
      /d\.csv:4: duplicate custom_id "a": it first appeared on line 2$/,
    );
    expect(await failureOf('e.csv', 'id,text\na,x\n,y\n', { defaults, idField: 'id', template: '{{text}}' })).toMatch(/e\.csv:3: invalid custom_id ""/);
  });

  it('a row whose message comes out empty', async () => {
    expect(await failureOf('b.csv', 'id,text\na,x\nb,\n', { defaults, template: '{{text}}' })).toMatch(/b\.csv:3: the user message is empty/);
  });

  it('a header with no rows has no items', async () => {
    expect(await failureOf('o.csv', 'id,prompt\n', { defaults })).toMatch(/o\.csv: no items/);
  });

  it('a missing model is reported on the first row', async () => {
    expect(await failureOf('nm.csv', 'prompt\nx\n', { defaults: { max_tokens: 5 } })).toMatch(/nm\.csv:2: no model: give --model, or set it in the config$/);
  });
});

describe('CSV error order', () => {
  it('reports a bad row before a later syntax error in the same chunk', async () => {
    const csv = 'id,text\na,x\nbad id,y\nc,z\nd,too,many\n';
    expect(await failureOf('order.csv', csv, { defaults, idField: 'id', template: '{{text}}' })).toMatch(/order\.csv:3: invalid custom_id "bad id"/);
  });
});
