import { IntervalTree } from '@hmmkit/interval-tree';
import { describe, expect, it } from 'vitest';

const values = <T>(it: Iterable<{ value: T }>): T[] => Array.from(it, (n) => n.value);

function sample(): IntervalTree<string> {
  const tree = new IntervalTree<string>();
  tree.insert(20, 30, 'c');
  tree.insert(0, 4095, 'a');
  tree.insert(20, 25, 'd');
  tree.insert(10, 10, 'b');
  tree.insert(4096, 8191, 'e');
  return tree;
}

describe('IntervalTree.overlapping', () => {
  it('yields what iterFirst/iterNext yield, in ascending start, equal starts in insertion order', () => {
    expect(values(sample().overlapping(10, 4096))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(values(sample().overlapping(26, 30))).toEqual(['a', 'c']);
  });

  it('yields nothing when no interval overlaps', () => {
    const tree = new IntervalTree<number>();
    tree.insert(10, 20, 1);
    expect(values(tree.overlapping(21, 25))).toEqual([]);
  });

  it('is its own iterator and reports done once exhausted', () => {
    const tree = sample();
    const it = tree.overlapping(10, 10);
    expect(it[Symbol.iterator]()).toBe(it);
    expect(it.next().value?.value).toBe('a');
    expect(it.next().value?.value).toBe('b');
    const end = it.next();
    expect(end.done).toBe(true);
    expect(end.value).toBeUndefined();
    expect(it.next().done).toBe(true);
  });

  it('throws on the next step after the tree was changed during iteration', () => {
    const tree = sample();
    const it = tree.overlapping(0, 10_000);
    it.next();
    tree.insert(1, 2, 'z');
    expect(() => it.next()).toThrow(/modified during iteration/);
  });

  it('supports removing the nodes it yielded once the iteration is collected', () => {
    const tree = sample();
    for (const node of [...tree.overlapping(20, 20)]) tree.remove(node);
    expect(values(tree)).toEqual(['b', 'e']);
  });
});

describe('IntervalTree[Symbol.iterator]', () => {
  it('yields every node by ascending start, equal starts in insertion order', () => {
    expect(values(sample())).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('yields nothing for an empty tree', () => {
    expect([...new IntervalTree<number>()]).toEqual([]);
  });

  it('throws on the next step after a remove during iteration', () => {
    const tree = sample();
    const it = tree[Symbol.iterator]();
    const first = it.next().value!;
    tree.remove(first);
    expect(() => it.next()).toThrow(/modified during iteration/);
  });
});
