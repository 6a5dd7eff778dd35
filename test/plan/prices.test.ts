import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadListPrices, priceFor, toPriceTable } from '../../src/plan/prices.js';

const file = JSON.parse(readFileSync(new URL('../../data/prices.json', import.meta.url), 'utf8')) as {
  asOf: string;
  source: string;
  models: Record<string, Record<string, unknown>>;
};

describe('the shipped price list', () => {
  it('says when and where it was read', () => {
    expect(file.asOf).toBe('2026-12-01');
    expect(file.source).toBe('https://platform.claude.com/docs/en/about-claude/pricing');
  });

  it('gives every model all five rates and a source', () => {
    const table = loadListPrices();
    expect(Object.keys(table).sort()).toEqual(Object.keys(file.models).sort());
    for (const [model, entry] of Object.entries(file.models)) {
      expect(entry.source, model).toMatch(/^https:\/\//);
      expect(Object.keys(table[model]!).filter((k) => k !== 'longPrompt').sort(), model).toEqual(
        ['cacheReadPerMTok', 'cacheWrite1hPerMTok', 'cacheWrite5mPerMTok', 'inputPerMTok', 'outputPerMTok'],
      );
    }
  });

  it('prices the current and still-served models of the pricing page', () => {
    const models = [
      'claude-fable-5-1', 'claude-mythos-5-1', 'claude-fable-5', 'claude-mythos-5', 'claude-opus-5-5', 'claude-opus-5',
      'claude-opus-4-8', 'claude-opus-4-7', 'claude-opus-4-6', 'claude-opus-4-5', 'claude-opus-4-1', 'claude-opus-4',
      'claude-sonnet-5-5', 'claude-sonnet-5', 'claude-sonnet-4-6', 'claude-sonnet-4-5', 'claude-sonnet-4', 'claude-3-7-sonnet',
      'claude-haiku-5-5', 'claude-haiku-4-5', 'claude-3-5-haiku', 'claude-3-haiku',
    ];
    for (const model of models) expect(priceFor(model), model).toBeDefined();
  });

  it('keeps the rates that depart from 1.25x / 2x / 0.1x of input', () => {
    expect(priceFor('claude-fable-5-1')).toMatchObject({ inputPerMTok: 10, cacheReadPerMTok: 0.25 });
    expect(priceFor('claude-opus-5-5')).toMatchObject({ inputPerMTok: 4, cacheReadPerMTok: 0.2 });
    expect(priceFor('claude-sonnet-5-5')).toMatchObject({ inputPerMTok: 2, cacheReadPerMTok: 0.1 });
    expect(priceFor('claude-3-haiku')).toMatchObject({ inputPerMTok: 0.25, cacheWrite5mPerMTok: 0.3, cacheReadPerMTok: 0.03 });
  });

  it('gives Haiku 5.5 its band for prompts over 100,000 tokens', () => {
    expect(priceFor('claude-haiku-5-5')).toEqual({
      inputPerMTok: 0.1, outputPerMTok: 0.5, cacheWrite5mPerMTok: 0.125, cacheWrite1hPerMTok: 0.2, cacheReadPerMTok: 0.01,
      longPrompt: { thresholdTokens: 100_000, inputPerMTok: 0.5, outputPerMTok: 2.5, cacheWrite5mPerMTok: 0.625, cacheWrite1hPerMTok: 1, cacheReadPerMTok: 0.05 },
    });
  });

  it('does not let a family name price a newer point release', () => {
    expect(priceFor('claude-opus-5-6')).toBeUndefined();
    expect(priceFor('claude-sonnet-5-5-20261007')?.inputPerMTok).toBe(2);
  });
});

describe('toPriceTable', () => {
  it('keeps only the rates of an entry', () => {
    const entry = { name: 'X', source: 'https://x', inputPerMTok: 1, outputPerMTok: 2, cacheWrite5mPerMTok: 3, cacheWrite1hPerMTok: 4, cacheReadPerMTok: 5 };
    expect(toPriceTable({ x: entry }, 'p.json')).toEqual({ x: { inputPerMTok: 1, outputPerMTok: 2, cacheWrite5mPerMTok: 3, cacheWrite1hPerMTok: 4, cacheReadPerMTok: 5 } });
  });

  it('fails on a missing rate or a bad band threshold, naming the model and the key', () => {
    expect(() => toPriceTable({ x: { inputPerMTok: 1, outputPerMTok: 2 } }, 'p.json')).toThrow(
      'p.json: models.x.cacheWrite5mPerMTok: expected a number >= 0 (US$ per million tokens), got undefined',
    );
    const rates = { inputPerMTok: 1, outputPerMTok: 2, cacheWrite5mPerMTok: 3, cacheWrite1hPerMTok: 4, cacheReadPerMTok: 5 };
    expect(() => toPriceTable({ x: { ...rates, longPrompt: { ...rates, thresholdTokens: 0 } } }, 'p.json')).toThrow(
      'p.json: models.x.longPrompt.thresholdTokens: expected a whole number >= 1, got 0',
    );
  });
});
