import { NIL, type NodeStore } from './node-store.js';

/*
 * The subtree-max augmentation, as RB_DECLARE_CALLBACKS() generates it for
 * interval_tree_generic.h: subtreeLast[n] = max(last[n], subtreeLast[left],
 * subtreeLast[right]). rb-insert.ts and rb-erase.ts call these exactly where
 * lib/rbtree.c calls augment->rotate / copy / propagate.
 */

/** ITPREFIX_compute_subtree_last(): the max `last` of the node and its two children's subtrees. */
export function computeSubtreeLast<T>(s: NodeStore<T>, node: number): number {
  const sub = s.subtreeLast;
  let max = s.last[node]!;
  const l = s.left[node]!;
  if (l !== NIL && sub[l]! > max) max = sub[l]!;
  const r = s.right[node]!;
  if (r !== NIL && sub[r]! > max) max = sub[r]!;
  return max;
}

/** augment_rotate(old, new): `nw` took `old`'s place, so it inherits old's subtree max. */
export function augmentRotate<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.subtreeLast[nw] = s.subtreeLast[old]!;
  s.subtreeLast[old] = computeSubtreeLast(s, old);
}

/** augment_copy(old, new): the successor replacing `old` covers the same subtree. */
export function augmentCopy<T>(s: NodeStore<T>, old: number, nw: number): void {
  s.subtreeLast[nw] = s.subtreeLast[old]!;
}

/** augment_propagate(node, stop): recompute upwards until unchanged or `stop` is reached. */
export function augmentPropagate<T>(s: NodeStore<T>, node: number, stop: number): void {
  const sub = s.subtreeLast;
  const parent = s.parent;
  while (node !== stop) {
    const max = computeSubtreeLast(s, node);
    if (sub[node] === max) break;
    sub[node] = max;
    node = parent[node]!;
  }
}
