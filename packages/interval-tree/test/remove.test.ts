import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../src/check-invariants.js';
import { IntervalTree } from '../src/index.js';

const values = <T>(it: Iterable<{ value: T }>): T[] => Array.from(it, (n) => n.value);

describe('IntervalTree.remove', () => {
  it('takes the node out of size, iteration and queries', () => {
    const tree = new IntervalTree<string>();
    const a = tree.insert(0, 10, 'a');
    tree.insert(5, 15, 'b');
    tree.remove(a);
    expect(tree.size).toBe(1);
    expect(values(tree)).toEqual(['b']);
    expect(values(tree.overlapping(0, 4))).toEqual([]);
  });

  it('removes exactly the given node among identical intervals', () => {
    const tree = new IntervalTree<string>();
    tree.insert(1, 2, 'x');
    const y = tree.insert(1, 2, 'y');
    tree.insert(1, 2, 'z');
    tree.remove(y);
    expect(values(tree)).toEqual(['x', 'z']);
  });

  it('leaves the removed node readable with its bounds and value', () => {
    const tree = new IntervalTree<string>();
    const node = tree.insert(4096, 8191, 'v');
    tree.remove(node);
    tree.insert(1, 1, 'reuses the slot');
    expect([node.start, node.last, node.value]).toEqual([4096, 8191, 'v']);
  });

  it('keeps the bounds of hundreds of removed nodes from two trees apart', () => {
    const trees = [new IntervalTree<number>(), new IntervalTree<number>()];
    const nodes = Array.from({ length: 300 }, (_, k) =>
      trees[k % 2]!.insert(k * 4096, k * 4096 + k, k),
    );
    for (const [k, node] of nodes.entries()) trees[k % 2]!.remove(node);
    for (let k = 0; k < 300; k++) trees[k % 2]!.insert(7, 7, -1); // reuse every slot
    const bounds = nodes.map((n) => [n.start, n.last, n.value]);
    expect(bounds).toEqual(nodes.map((_, k) => [k * 4096, k * 4096 + k, k]));
  });

  it('lowers the subtree max so that a query past the remaining intervals finds nothing', () => {
    const tree = new IntervalTree<string>();
    tree.insert(0, 10, 'short');
    const long = tree.insert(5, 1000, 'long');
    tree.remove(long);
    expect(tree.iterFirst(500, 600)).toBeUndefined();
    checkInvariants(tree);
  });

  it('moves the leftmost node on when the leftmost is removed', () => {
    const tree = new IntervalTree<string>();
    const low = tree.insert(0, 1, 'low');
    tree.insert(10, 11, 'mid');
    tree.remove(low);
    expect(tree.iterFirst(0, 10)?.value).toBe('mid');
    checkInvariants(tree);
  });

  it('keeps the tree valid while every node is removed in a scrambled order', () => {
    const tree = new IntervalTree<number>();
    const nodes = Array.from({ length: 257 }, (_, i) => tree.insert((i * 37) % 101, 200, i));
    for (let k = 0; k < nodes.length; k++) {
      tree.remove(nodes[(k * 113) % nodes.length]!);
      checkInvariants(tree);
    }
    expect(tree.size).toBe(0);
    expect(tree.iterFirst(0, 1000)).toBeUndefined();
  });

  it('works as a reinsert after removal, landing after equal starts', () => {
    const tree = new IntervalTree<string>();
    const a = tree.insert(3, 4, 'a');
    tree.insert(3, 4, 'b');
    tree.remove(a);
    tree.insert(a.start, a.last, a.value);
    expect(values(tree)).toEqual(['b', 'a']);
  });
});

describe('IntervalTree.clear', () => {
  it('empties the tree', () => {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 50; i++) tree.insert(i, i, i);
    tree.clear();
    expect(tree.size).toBe(0);
    expect([...tree]).toEqual([]);
    expect(tree.iterFirst(0, 100)).toBeUndefined();
    checkInvariants(tree);
  });

  it('leaves nodes from before readable but no longer removable', () => {
    const tree = new IntervalTree<string>();
    const old = tree.insert(7, 9, 'old');
    tree.clear();
    tree.insert(1, 2, 'new');
    expect([old.start, old.last, old.value]).toEqual([7, 9, 'old']);
    expect(() => tree.remove(old)).toThrow(RangeError);
    expect(tree.size).toBe(1);
  });

  it('accepts inserts afterwards as a fresh tree', () => {
    const tree = new IntervalTree<number>();
    tree.insert(5, 6, 1);
    tree.clear();
    tree.insert(1, 2, 2);
    expect(values(tree)).toEqual([2]);
  });
});
