import type { NodeStore } from './node-store.js';
import { parentOf } from './rb-links.js';

/*
 * The subtree-max augmentation, as RB_DECLARE_CALLBACKS() generates it for
 * interval_tree_generic.h: subtreeLast(n) = max(last(n), subtreeLast(left),
 * subtreeLast(right)). rb-insert.ts and rb-erase.ts call these exactly where
 * lib/rbtree.c calls augment->rotate / copy / propagate.
 */

/** ITPREFIX_compute_subtree_last(): the max `last` of the node and its two children's subtrees. */
export function computeSubtreeLast<T>(s: NodeStore<T>, n: number): number {
  const sub = s.subtreeLast;
  let max = s.last[n * 4]!;
  const l = s.left[n * 8]!;
  if (l && sub[l * 4]! > max) max = sub[l * 4]!;
  const r = s.right[n * 8]!;
  if (r && sub[r * 4]! > max) max = sub[r * 4]!;
  return max;
}

/** augment_rotate(old, new): `nw` took `old`'s place, so it inherits old's subtree max. */
export function augmentRotate<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.subtreeLast[nw * 4] = s.subtreeLast[old * 4]!;
  s.subtreeLast[old * 4] = computeSubtreeLast(s, old);
}

/** augment_copy(old, new): the successor replacing `old` covers the same subtree. */
export function augmentCopy<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.subtreeLast[nw * 4] = s.subtreeLast[old * 4]!;
}

/** augment_propagate(n, stop): recompute upwards until unchanged or `stop` is reached. */
export function augmentPropagate<T>(s: NodeStore<T>, n: number, stop: number): void {
  const sub = s.subtreeLast;
  while (n !== stop) {
    const max = computeSubtreeLast(s, n);
    if (sub[n * 4] === max) break;
    sub[n * 4] = max;
    n = parentOf(s.pc, n);
  }
}
