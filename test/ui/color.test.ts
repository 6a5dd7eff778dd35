import { describe, expect, it } from 'vitest';
import { colors, createProgress, useColor } from '../../src/ui/index.js';
import { fakeStream } from './fake-stream.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('useColor', () => {
  it('colours a terminal and not a pipe by default', () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(pipe, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
  });

  it('turns colour off for any non-empty NO_COLOR, even on a TTY with FORCE_COLOR unset', () => {
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: 'yes please' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('FORCE_COLOR=1/2/3 forces colour on a pipe; FORCE_COLOR=0 turns it off on a TTY', () => {
    for (const level of ['1', '2', '3']) expect(useColor(pipe, { FORCE_COLOR: level })).toBe(true);
    expect(useColor(tty, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('lets NO_COLOR win over FORCE_COLOR', () => {
    expect(useColor(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });

  it('does not colour a dumb terminal unless forced', () => {
    expect(useColor(tty, { TERM: 'dumb' })).toBe(false);
    expect(useColor(tty, { TERM: 'dumb', FORCE_COLOR: '1' })).toBe(true);
  });
});

describe('colors', () => {
  it('returns a chalk that emits ANSI codes only when enabled, whatever chalk detects', () => {
    expect(colors(false).red('x')).toBe('x');
    expect(colors(true).red('x')).toBe('\x1b[31mx\x1b[39m');
  });

  it('keeps warnings and errors plain on a TTY-like stream when NO_COLOR is set', () => {
    const stderr = fakeStream({ isTTY: true, columns: 100 });
    const progress = createProgress({ stderr, env: { NO_COLOR: '1' } });
    progress.warn('slow down');
    progress.error('gave up');
    expect(stderr.text()).toBe('warning: slow down\nerror: gave up\n');

    const coloured = fakeStream({ isTTY: true, columns: 100 });
    createProgress({ stderr: coloured, env: {} }).error('gave up');
    expect(coloured.text()).toBe('\x1b[31merror:\x1b[39m gave up\n');
  });
});
