import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const prices = (yaml: string) => parseConfig('claw-batch.config.yaml', `prices:\n${yaml}`).prices;

describe('config prices', () => {
  it('defaults the cache rates to 1.25x, 2x and 0.1x of the input rate when they are left out', () => {
    expect(prices('  my-model: { input_per_mtok: 3, output_per_mtok: 15 }\n')).toEqual({
      'my-model': { inputPerMTok: 3, outputPerMTok: 15, cacheWrite5mPerMTok: 3.75, cacheWrite1hPerMTok: 6, cacheReadPerMTok: 0.3 },
    });
  });

  it('derives 0.3, not 0.30000000000000004, from an input of 3', () => {
    expect(prices('  m: { input_per_mtok: 3, output_per_mtok: 1 }\n').m!.cacheReadPerMTok).toBe(0.3);
    expect(prices('  m: { input_per_mtok: 0.8, output_per_mtok: 4 }\n').m).toMatchObject({ cacheWrite5mPerMTok: 1, cacheWrite1hPerMTok: 1.6, cacheReadPerMTok: 0.08 });
  });

  it('takes each cache rate the entry gives, and derives only the ones it omits', () => {
    const yaml = '  m:\n    input_per_mtok: 4\n    output_per_mtok: 20\n    cache_read_per_mtok: 0.2\n';
    expect(prices(yaml).m).toEqual({ inputPerMTok: 4, outputPerMTok: 20, cacheWrite5mPerMTok: 5, cacheWrite1hPerMTok: 8, cacheReadPerMTok: 0.2 });
    const all = '  m: { input_per_mtok: 1, output_per_mtok: 2, cache_write_5m_per_mtok: 3, cache_write_1h_per_mtok: 4, cache_read_per_mtok: 0 }\n';
    expect(prices(all).m).toEqual({ inputPerMTok: 1, outputPerMTok: 2, cacheWrite5mPerMTok: 3, cacheWrite1hPerMTok: 4, cacheReadPerMTok: 0 });
  });

  it('refuses a cache rate that is not a number >= 0, naming the key', () => {
    expect(() => prices('  m: { input_per_mtok: 1, output_per_mtok: 2, cache_read_per_mtok: -1 }\n')).toThrow(
      new ConfigError('claw-batch.config.yaml', 'prices.m.cache_read_per_mtok', 'expected a number >= 0, got -1'),
    );
  });

  it('lists the cache keys among the known ones when a key is misspelt', () => {
    expect(() => prices('  m: { input_per_mtok: 1, output_per_mtok: 2, cache_reads_per_mtok: 1 }\n')).toThrow(
      /prices\.m\.cache_reads_per_mtok: unknown key \(expected one of: input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok\)/,
    );
  });
});
