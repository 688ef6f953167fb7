import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../src/check-invariants.js';
import { IntervalTree } from '../src/index.js';

const values = <T>(it: Iterable<{ value: T }>): T[] => Array.from(it, (n) => n.value);

describe('IntervalTree.insert', () => {
  it('returns a node carrying the closed interval and the value', () => {
    const tree = new IntervalTree<string>();
    const node = tree.insert(0x1000, 0x1fff, 'a');
    expect(node.start).toBe(0x1000);
    expect(node.last).toBe(0x1fff);
    expect(node.value).toBe('a');
  });

  it('counts every inserted interval in size, duplicates included', () => {
    const tree = new IntervalTree<number>();
    tree.insert(5, 10, 1);
    tree.insert(5, 10, 2);
    tree.insert(0, 0, 3);
    expect(tree.size).toBe(3);
  });

  it('keeps intervals in ascending start order', () => {
    const tree = new IntervalTree<number>();
    for (const s of [50, 10, 40, 20, 30]) tree.insert(s, s + 5, s);
    expect(values(tree)).toEqual([10, 20, 30, 40, 50]);
  });

  it('places an equal start after the ones already present (insertion order)', () => {
    const tree = new IntervalTree<string>();
    tree.insert(7, 100, 'first');
    tree.insert(3, 4, 'lower');
    tree.insert(7, 8, 'second');
    tree.insert(7, 7, 'third');
    expect(values(tree)).toEqual(['lower', 'first', 'second', 'third']);
  });

  it('lets the caller change a node value in place', () => {
    const tree = new IntervalTree<string>();
    const node = tree.insert(1, 2, 'old');
    node.value = 'new';
    expect(tree.iterFirst(1, 1)?.value).toBe('new');
  });

  it('accepts the extreme bounds 0 and Number.MAX_SAFE_INTEGER exactly', () => {
    const tree = new IntervalTree<null>();
    const node = tree.insert(0, Number.MAX_SAFE_INTEGER, null);
    const top = tree.insert(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, null);
    expect(node.last).toBe(Number.MAX_SAFE_INTEGER);
    expect(top.start).toBe(Number.MAX_SAFE_INTEGER);
    expect(tree.iterFirst(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER)).toBe(node);
  });

  it('stays a valid red-black tree through ascending, descending and equal-start inserts', () => {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 300; i++) tree.insert(i, i + 3, i);
    for (let i = 300; i > 0; i--) tree.insert(i, i, i);
    for (let i = 0; i < 300; i++) tree.insert(42, 42 + (i % 7), i);
    expect(checkInvariants(tree)).toBeGreaterThan(0);
    expect(tree.size).toBe(900);
  });

  it('grows past its initial storage without losing a node', () => {
    const tree = new IntervalTree<number>();
    const nodes = Array.from({ length: 1000 }, (_, i) => tree.insert(i * 10, i * 10 + 9, i));
    expect(nodes.every((n, i) => n.start === i * 10 && n.last === i * 10 + 9)).toBe(true);
    checkInvariants(tree);
  });
});
