import { describe, expect, it } from 'vitest';
import { count } from '../src/args.js';
import { selectFactories } from '../src/contenders.js';

describe('count', () => {
  it('accepts positive integers, 1e3 spellings included', () => {
    expect(count('sizes', '1e3')).toBe(1000);
    expect(count('rounds', '7')).toBe(7);
  });

  it.each(['0', '-5', '1.5', 'abc', '', '1e300'])('rejects %j naming the option', (text) => {
    expect(() => count('sizes', text)).toThrow(
      new RangeError(`--sizes: not a positive integer: ${text}`),
    );
  });
});

describe('selectFactories', () => {
  const names = (only: string) => selectFactories(only).map((make) => make().name);

  it('puts ours first and keeps every peer when nothing is named', () => {
    const all = names('');
    expect(all[0]).toBe('@hmmkit/interval-tree');
    expect(all).toContain('@protontech/interval-tree');
    expect(all).toContain('@flatten-js/interval-tree');
  });

  it('keeps ours plus the peers whose names contain a word', () => {
    expect(names('protontech,flatten')).toEqual([
      '@hmmkit/interval-tree',
      '@flatten-js/interval-tree',
      '@protontech/interval-tree',
    ]);
  });

  it('rejects a word that matches no peer, even one matching ours', () => {
    expect(() => names('nothing')).toThrow(/--only: no peer matches "nothing"/);
    expect(() => names('hmmkit')).toThrow(/--only: no peer matches "hmmkit"/);
  });
});
