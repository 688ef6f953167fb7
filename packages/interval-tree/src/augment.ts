import { LAST, LEFT, NIL, RIGHT, SUBTREE_LAST } from './node-layout.js';
import type { NodeStore } from './node-store.js';

/*
 * The subtree-max augmentation, as RB_DECLARE_CALLBACKS() generates it for
 * interval_tree_generic.h: subtreeLast(n) = max(last(n), subtreeLast(left),
 * subtreeLast(right)). rb-insert.ts and rb-erase.ts call these exactly where
 * lib/rbtree.c calls augment->rotate / copy / propagate.
 */

/** ITPREFIX_compute_subtree_last(): the max `last` of the node and its two children's subtrees. */
export function computeSubtreeLast<T>(s: NodeStore<T>, node: number): number {
  const { f, i } = s;
  let max = f[node * 4 + LAST]!;
  const l = i[node * 8 + LEFT]!;
  if (l !== NIL && f[l * 4 + SUBTREE_LAST]! > max) max = f[l * 4 + SUBTREE_LAST]!;
  const r = i[node * 8 + RIGHT]!;
  if (r !== NIL && f[r * 4 + SUBTREE_LAST]! > max) max = f[r * 4 + SUBTREE_LAST]!;
  return max;
}

/** augment_rotate(old, new): `nw` took `old`'s place, so it inherits old's subtree max. */
export function augmentRotate<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.f[nw * 4 + SUBTREE_LAST] = s.f[old * 4 + SUBTREE_LAST]!;
  s.f[old * 4 + SUBTREE_LAST] = computeSubtreeLast(s, old);
}

/** augment_copy(old, new): the successor replacing `old` covers the same subtree. */
export function augmentCopy<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.f[nw * 4 + SUBTREE_LAST] = s.f[old * 4 + SUBTREE_LAST]!;
}

/** augment_propagate(node, stop): recompute upwards until unchanged or `stop` is reached. */
export function augmentPropagate<T>(s: NodeStore<T>, node: number, stop: number): void {
  const { f, pc } = s;
  while (node !== stop) {
    const max = computeSubtreeLast(s, node);
    if (f[node * 4 + SUBTREE_LAST] === max) break;
    f[node * 4 + SUBTREE_LAST] = max;
    node = pc[node]! >> 1;
  }
}
