import { IntervalHandle } from './interval-node.js';
import { type IntervalTree, storeOf } from './interval-tree.js';
import { NIL } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import { BLACK, colorOf, nextSlot, parentOf, RED } from './rb-links.js';

/*
 * A full structural check of an IntervalTree, for tests: every rule stated at
 * the top of interval-tree.ts. Not exported from the package root.
 */

/** Throws an Error naming the first broken invariant; returns the black height. */
export function checkInvariants<T>(tree: IntervalTree<T>): number {
  const s = storeOf(tree);
  checkNilSlot(s);
  if (s.root === NIL) {
    expect(s.size === 0, `empty tree has size ${s.size}`);
    expect(s.leftmost === NIL, 'empty tree has a leftmost node');
    return 0;
  }
  expect(parentOf(s.pc, s.root) === NIL, 'root has a parent');
  expect(colorOf(s.pc, s.root) === BLACK, 'root is red');
  const counted = { nodes: 0 };
  const height = checkSubtree(s, s.root, counted);
  expect(counted.nodes === s.size, `size ${s.size} but ${counted.nodes} nodes reachable`);
  checkOrder(s);
  return height;
}

function expect(ok: boolean, message: string): void {
  if (!ok) throw new Error(`interval tree invariant broken: ${message}`);
}

/** Slot 0 stands for NULL: nothing may have been written to it. */
function checkNilSlot<T>(s: NodeStore<T>): void {
  const fields = [
    s.start[NIL * 4],
    s.last[NIL * 4],
    s.subtreeLast[NIL * 4],
    s.left[NIL * 8],
    s.right[NIL * 8],
    s.pc[NIL],
  ];
  expect(
    fields.every((v) => v === 0),
    'slot 0 (NIL) was written to',
  );
  expect(s.handles[NIL] === undefined, 'slot 0 (NIL) has a handle');
}

/** Checks links, colours, handles and the subtree max below `node`; returns its black height. */
function checkSubtree<T>(s: NodeStore<T>, node: number, counted: { nodes: number }): number {
  if (node === NIL) return 1;
  counted.nodes++;
  const { start, last, subtreeLast: sub, pc } = s;
  const l = s.left[node * 8]!;
  const r = s.right[node * 8]!;
  for (const child of [l, r]) {
    if (child === NIL) continue;
    expect(parentOf(pc, child) === node, `slot ${child}'s parent link is not ${node}`);
    const redRed = colorOf(pc, node) === RED && colorOf(pc, child) === RED;
    expect(!redRed, `red slot ${node} has red child ${child}`);
  }
  const handle = s.handles[node];
  expect(handle instanceof IntervalHandle && handle.slot === node, `slot ${node} has no handle`);
  expect(start[node * 4]! <= last[node * 4]!, `slot ${node} has start > last`);
  let max = last[node * 4]!;
  if (l !== NIL) max = Math.max(max, sub[l * 4]!);
  if (r !== NIL) max = Math.max(max, sub[r * 4]!);
  const got = sub[node * 4];
  expect(got === max, `slot ${node} subtreeLast ${got} != ${max}`);
  const hl = checkSubtree(s, l, counted);
  const hr = checkSubtree(s, r, counted);
  expect(hl === hr, `slot ${node} black heights differ: ${hl} vs ${hr}`);
  return hl + (colorOf(pc, node) === BLACK ? 1 : 0);
}

/** In-order starts never decrease, and `leftmost` is the first node. */
function checkOrder<T>(s: NodeStore<T>): void {
  const { start, left } = s;
  let first = s.root;
  while (left[first * 8] !== NIL) first = left[first * 8]!;
  expect(s.leftmost === first, `leftmost is ${s.leftmost}, expected ${first}`);
  for (let n = first, next = nextSlot(s, n); next !== NIL; n = next, next = nextSlot(s, n)) {
    expect(start[n * 4]! <= start[next * 4]!, `start of slot ${n} > start of its successor`);
  }
}
