// Reaches into the store, so the tree must come from the same module as storeOf (src/, also under TEST_DIST).

import { describe, expect, it } from 'vitest';
import { Prandom } from '../bench/prandom.js';
import { checkInvariants } from '../src/check-invariants.js';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { storeOf } from '../src/interval-tree.js';
import { NIL } from '../src/node-layout.js';
import { RELAYOUT_MIN_NODES } from '../src/relayout.js';
import { NaiveIntervalList } from './naive-interval-list.js';

const PAGE = 4096;
/** Nodes that fill the storage which the next insert doubles into a relayout (slot 0 is NIL). */
const FULL = RELAYOUT_MIN_NODES - 1;

/** Random page-aligned intervals, with many equal starts (4096 distinct pages). */
function fill(tree: IntervalTree<number>, naive: NaiveIntervalList<number>, count: number) {
  const rnd = Prandom.seedState(7n);
  const nodes: IntervalNode<number>[] = [];
  for (let id = 0; id < count; id++) {
    const start = (rnd.u32() % 4096) * PAGE;
    const last = start + (1 + (rnd.u32() % 64)) * PAGE - 1;
    nodes.push(tree.insert(start, last, id));
    naive.insert(start, last, id);
  }
  return nodes;
}

const values = (it: Iterable<{ value: number }>): number[] => Array.from(it, (n) => n.value);

/** In preorder a node's left child, when it has one, is the next slot: counts the nodes where it is not. */
function leftChildrenAway(tree: IntervalTree<number>, slots: number): number {
  const { left: leftLinks } = storeOf(tree);
  let away = 0;
  for (let n = 0; n < slots; n++) {
    const left = leftLinks[n * 8]!;
    if (left !== NIL && left !== n + 1) away++;
  }
  return away;
}

describe('relayout of a large tree when its storage doubles', () => {
  it('lays the nodes out in preorder: each left child right after its parent', () => {
    const tree = new IntervalTree<number>();
    fill(tree, new NaiveIntervalList(), FULL);
    expect(leftChildrenAway(tree, RELAYOUT_MIN_NODES)).toBeGreaterThan(1000);
    tree.insert(0, 0, -1); // storage full: this insert doubles it
    // The relayout ran before the insert linked its node and rebalanced, which
    // changes the left link of at most three nodes (the link, two rotations).
    expect(leftChildrenAway(tree, RELAYOUT_MIN_NODES)).toBeLessThanOrEqual(3);
  });

  it('keeps every interval, handle, order and answer across two doublings', () => {
    const tree = new IntervalTree<number>();
    const naive = new NaiveIntervalList<number>();
    const count = RELAYOUT_MIN_NODES * 2 + 1000;
    const nodes = fill(tree, naive, count);
    expect(checkInvariants(tree)).toBeGreaterThan(0);
    expect(tree.size).toBe(count);
    expect(values(tree)).toEqual(values(naive.overlapping(0, Number.MAX_SAFE_INTEGER)));
    expect(nodes.every((node, id) => node.value === id)).toBe(true);
    for (let q = 0; q < 200; q++) {
      const at = q * 20 * PAGE + 17;
      expect(values(tree.overlapping(at, at + PAGE))).toEqual(
        values(naive.overlapping(at, at + PAGE)),
      );
    }
  });

  it('removes nodes through handles taken before the relayout', () => {
    const tree = new IntervalTree<number>();
    const naive = new NaiveIntervalList<number>();
    const count = RELAYOUT_MIN_NODES + 10;
    const nodes = fill(tree, naive, count);
    const inOrder = values(naive.overlapping(0, Number.MAX_SAFE_INTEGER));
    let boundsKept = true;
    for (let id = 0; id < count; id += 3) {
      const node = nodes[id]!;
      const { start, last } = node;
      tree.remove(node);
      boundsKept &&= node.start === start && node.last === last;
    }
    expect(boundsKept).toBe(true);
    expect(checkInvariants(tree)).toBeGreaterThan(0);
    expect(values(tree)).toEqual(inOrder.filter((id) => id % 3 !== 0));
    expect(() => tree.remove(nodes[0]!)).toThrow(RangeError);
  });

  it('moves the nodes that reused freed slots along with the rest', () => {
    const tree = new IntervalTree<number>();
    const nodes = fill(tree, new NaiveIntervalList(), FULL);
    for (let id = 0; id < FULL; id += 32) tree.remove(nodes[id]!);
    const kept = nodes.filter((_, id) => id % 32 !== 0);
    // The first 1024 inserts take the freed slots; the next one doubles the storage.
    for (let k = 0; k <= RELAYOUT_MIN_NODES / 32; k++)
      kept.push(tree.insert(k * PAGE, k * PAGE, -k));
    expect(checkInvariants(tree)).toBeGreaterThan(0);
    expect(tree.size).toBe(kept.length);
    expect(leftChildrenAway(tree, RELAYOUT_MIN_NODES)).toBeLessThanOrEqual(3);
    const byStart = [...kept].sort((a, b) => a.start - b.start);
    expect(Array.from(tree, (n) => n.start)).toEqual(byStart.map((n) => n.start));
    for (const node of kept.slice(-3)) tree.remove(node);
    expect(tree.size).toBe(kept.length - 3);
  });

  it('continues an iterFirst/iterNext walk whose node moved', () => {
    const tree = new IntervalTree<number>();
    const naive = new NaiveIntervalList<number>();
    fill(tree, naive, FULL);
    const [qs, ql] = [100 * PAGE, 101 * PAGE];
    const first = tree.iterFirst(qs, ql)!;
    tree.insert(0, 0, -1); // doubles the storage; `first` moves to another slot
    const expected = values(naive.overlapping(qs, ql));
    const walked = [first.value];
    for (let n = tree.iterNext(first, qs, ql); n; n = tree.iterNext(n, qs, ql))
      walked.push(n.value);
    expect(walked).toEqual(expected);
  });
});
