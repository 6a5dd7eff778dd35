import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/proxy/fair-queue.js';

const drain = <T>(q: FairQueue<T>) => {
  const out: T[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
  return out;
};

describe('FairQueue', () => {
  it('serves clients in turn, each in its own order', () => {
    const q = new FairQueue<string>();
    for (let i = 1; i <= 4; i++) q.push('greedy', `g${i}`);
    q.push('light', 'l1');
    q.push('other', 'o1');
    q.push('other', 'o2');
    expect(q.size).toBe(7);
    expect(drain(q)).toEqual(['g1', 'l1', 'o1', 'g2', 'o2', 'g3', 'g4']);
    expect(q.size).toBe(0);
  });

  it('a newcomer waits one turn of each client already waiting, never the whole backlog', () => {
    const q = new FairQueue<string>();
    for (let i = 1; i <= 100; i++) q.push('greedy', `g${i}`);
    q.push('a', 'a1');
    expect(q.shift()).toBe('g1');
    q.push('light', 'l1');
    expect([q.shift(), q.shift(), q.shift()]).toEqual(['a1', 'g2', 'l1']);
  });

  it('puts a refused request back at the front of its own line', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.push('a', 'a2');
    q.push('b', 'b1');
    const first = q.shift()!;
    q.unshift('a', first);
    expect(drain(q)).toEqual(['b1', 'a1', 'a2']);
  });

  it('removes a request whose client gave up, and forgets a client with nothing left', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.push('b', 'b1');
    q.push('b', 'b2');
    expect(q.remove('a', 'a1')).toBe(true);
    expect(q.remove('a', 'a1')).toBe(false);
    expect(q.sizeOf('a')).toBe(0);
    expect(q.sizeOf('b')).toBe(2);
    expect(drain(q)).toEqual(['b1', 'b2']);
  });
});
