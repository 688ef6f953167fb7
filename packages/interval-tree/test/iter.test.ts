// Reaches into the store, so the tree must come from the same module as storeOf (src/, also under TEST_DIST).

import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { storeOf } from '../src/interval-tree.js';
import { NIL } from '../src/node-layout.js';
import { parentOf } from '../src/rb-links.js';

function walk<T>(tree: IntervalTree<T>, start: number, last: number): T[] {
  const out: T[] = [];
  for (let n = tree.iterFirst(start, last); n; n = tree.iterNext(n, start, last)) out.push(n.value);
  return out;
}

function treeOf(intervals: [number, number][]): IntervalTree<string> {
  const tree = new IntervalTree<string>();
  for (const [s, l] of intervals) tree.insert(s, l, `${s}-${l}`);
  return tree;
}

describe('iterFirst / iterNext (interval_tree_iter_first / _iter_next)', () => {
  it('finds nothing in an empty tree', () => {
    expect(new IntervalTree<number>().iterFirst(0, Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('treats intervals as closed: touching at one end counts as overlap', () => {
    const tree = treeOf([[10, 20]]);
    expect(walk(tree, 20, 30)).toEqual(['10-20']);
    expect(walk(tree, 0, 10)).toEqual(['10-20']);
    expect(walk(tree, 21, 30)).toEqual([]);
    expect(walk(tree, 0, 9)).toEqual([]);
  });

  it('matches a degenerate [x, x] interval only at x', () => {
    const tree = treeOf([[5, 5]]);
    expect(walk(tree, 5, 5)).toEqual(['5-5']);
    expect(walk(tree, 4, 4)).toEqual([]);
    expect(walk(tree, 6, 6)).toEqual([]);
    expect(walk(tree, 0, 100)).toEqual(['5-5']);
  });

  it('returns overlapping nodes in ascending start order', () => {
    const tree = treeOf([
      [30, 40],
      [0, 100],
      [15, 16],
      [50, 60],
      [35, 35],
    ]);
    expect(walk(tree, 16, 35)).toEqual(['0-100', '15-16', '30-40', '35-35']);
  });

  it('returns equal starts in insertion order', () => {
    const tree = new IntervalTree<string>();
    for (const v of ['a', 'b', 'c', 'd']) tree.insert(8, 9, v);
    tree.insert(8, 8, 'e');
    expect(walk(tree, 9, 9)).toEqual(['a', 'b', 'c', 'd']);
    expect(walk(tree, 8, 8)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('skips a long interval that starts early only if it ends before the query', () => {
    const tree = treeOf([
      [0, 1000],
      [0, 5],
      [100, 200],
    ]);
    expect(walk(tree, 500, 600)).toEqual(['0-1000']);
  });

  it('returns everything for the full range [0, MAX_SAFE_INTEGER]', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const tree = treeOf([
      [0, 0],
      [big, big],
      [2 ** 47, 2 ** 47 + 4095],
      [1, big],
    ]);
    expect(walk(tree, 0, big)).toEqual([
      '0-0',
      `1-${big}`,
      `${2 ** 47}-${2 ** 47 + 4095}`,
      `${big}-${big}`,
    ]);
    expect(walk(tree, big, big)).toEqual([`1-${big}`, `${big}-${big}`]);
  });

  it('rejects at once a query that starts after every last (root subtree max)', () => {
    const tree = treeOf([
      [0, 10],
      [5, 50],
    ]);
    expect(tree.iterFirst(51, 60)).toBeUndefined();
  });

  it('rejects at once a query that ends before the leftmost start', () => {
    const tree = treeOf([
      [100, 200],
      [150, 160],
    ]);
    expect(tree.iterFirst(0, 99)).toBeUndefined();
    expect(tree.iterFirst(0, 100)?.value).toBe('100-200');
  });

  it('continues from any node the caller holds, not only the last one returned', () => {
    const tree = new IntervalTree<number>();
    const nodes: IntervalNode<number>[] = [];
    for (let i = 0; i < 10; i++) nodes.push(tree.insert(i, i + 2, i));
    const first = tree.iterFirst(0, 100);
    tree.iterNext(first!, 0, 100);
    expect(tree.iterNext(nodes[6]!, 0, 100)?.value).toBe(7);
    expect(tree.iterNext(nodes[9]!, 0, 100)).toBeUndefined();
  });

  it('ends the walk when starts pass the query end', () => {
    const tree = treeOf([
      [0, 10],
      [5, 6],
      [11, 20],
    ]);
    const first = tree.iterFirst(6, 10);
    const second = tree.iterNext(first!, 6, 10);
    expect([first?.value, second?.value]).toEqual(['0-10', '5-6']);
    expect(tree.iterNext(second!, 6, 10)).toBeUndefined();
  });
});

describe('the climb target iterFirst records for iterNext', () => {
  /** A tree with a query hit whose iterNext climbs, and the store behind it. */
  function searched() {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 32; i++) tree.insert(i * 10, i * 10 + 5, i);
    const hit = tree.iterFirst(42, 42)!;
    return { tree, hit, s: storeOf(tree) };
  }

  it('is recorded by the search and matches the kernel climb', () => {
    const { hit, s } = searched();
    expect(s.handles[s.nextAncestorOf]).toBe(hit);
    let node = s.nextAncestorOf;
    let parent = parentOf(s.pc, node);
    while (parent !== NIL && s.right[parent * 8] === node)
      [node, parent] = [parent, parentOf(s.pc, parent)];
    expect(s.nextAncestor).toBe(parent);
  });

  it('is dropped by every insert and remove, which may reshape the ancestors', () => {
    const { tree, hit, s } = searched();
    tree.insert(1000, 1000, 99);
    expect(s.nextAncestorOf).toBe(NIL);
    tree.iterFirst(42, 42);
    expect(s.nextAncestorOf).not.toBe(NIL);
    tree.remove(hit);
    expect(s.nextAncestorOf).toBe(NIL);
  });
});
