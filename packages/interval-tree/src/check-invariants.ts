import { IntervalHandle } from './interval-node.js';
import { type IntervalTree, storeOf } from './interval-tree.js';
import { BLACK, LAST, NIL, RED, START, SUBTREE_LAST } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import { colorOf, leftOf, nextSlot, parentOf, rightOf } from './rb-links.js';

/*
 * A full structural check of an IntervalTree, for tests: every rule stated at
 * the top of interval-tree.ts. Not exported from the package root.
 */

/** Throws an Error naming the first broken invariant; returns the black height. */
export function checkInvariants<T>(tree: IntervalTree<T>): number {
  const s = storeOf(tree);
  if (s.root === NIL) {
    expect(s.size === 0, `empty tree has size ${s.size}`);
    expect(s.leftmost === NIL, 'empty tree has a leftmost node');
    return 0;
  }
  expect(parentOf(s, s.root) === NIL, 'root has a parent');
  expect(colorOf(s, s.root) === BLACK, 'root is red');
  const counted = { nodes: 0 };
  const height = checkSubtree(s, s.root, counted);
  expect(counted.nodes === s.size, `size ${s.size} but ${counted.nodes} nodes reachable`);
  checkOrder(s);
  return height;
}

function expect(ok: boolean, message: string): void {
  if (!ok) throw new Error(`interval tree invariant broken: ${message}`);
}

const startOf = <T>(s: NodeStore<T>, n: number) => s.f[n * 4 + START]!;
const lastOf = <T>(s: NodeStore<T>, n: number) => s.f[n * 4 + LAST]!;
const subtreeLastOf = <T>(s: NodeStore<T>, n: number) => s.f[n * 4 + SUBTREE_LAST]!;

/** Checks links, colours, handles and the subtree max below `node`; returns its black height. */
function checkSubtree<T>(s: NodeStore<T>, node: number, counted: { nodes: number }): number {
  if (node === NIL) return 1;
  counted.nodes++;
  const l = leftOf(s, node);
  const r = rightOf(s, node);
  for (const child of [l, r]) {
    if (child === NIL) continue;
    expect(parentOf(s, child) === node, `slot ${child}'s parent link is not ${node}`);
    const redRed = colorOf(s, node) === RED && colorOf(s, child) === RED;
    expect(!redRed, `red slot ${node} has red child ${child}`);
  }
  const handle = s.handles[node];
  expect(handle instanceof IntervalHandle && handle.slot === node, `slot ${node} has no handle`);
  expect(startOf(s, node) <= lastOf(s, node), `slot ${node} has start > last`);
  let max = lastOf(s, node);
  if (l !== NIL) max = Math.max(max, subtreeLastOf(s, l));
  if (r !== NIL) max = Math.max(max, subtreeLastOf(s, r));
  const got = subtreeLastOf(s, node);
  expect(got === max, `slot ${node} subtreeLast ${got} != ${max}`);
  const hl = checkSubtree(s, l, counted);
  const hr = checkSubtree(s, r, counted);
  expect(hl === hr, `slot ${node} black heights differ: ${hl} vs ${hr}`);
  return hl + (colorOf(s, node) === BLACK ? 1 : 0);
}

/** In-order starts never decrease, and `leftmost` is the first node. */
function checkOrder<T>(s: NodeStore<T>): void {
  let first = s.root;
  while (leftOf(s, first) !== NIL) first = leftOf(s, first);
  expect(s.leftmost === first, `leftmost is ${s.leftmost}, expected ${first}`);
  for (let n = first, next = nextSlot(s, n); next !== NIL; n = next, next = nextSlot(s, n)) {
    expect(startOf(s, n) <= startOf(s, next), `start of slot ${n} > start of its successor`);
  }
}
