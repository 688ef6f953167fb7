import { NIL } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import { leftAncestor } from './rb-links.js';

/*
 * The overlap walk of interval_tree_generic.h, over slots. A node overlaps
 * the query [qs, ql] iff
 *   Cond1: start(node) <= ql   and   Cond2: qs <= last(node).
 * Nothing here allocates. This is the hot path of every query.
 */

/** An iter_next climb whose end is not known (slots are >= 0). */
const UNKNOWN = -1;

/**
 * ITPREFIX_subtree_search(): the leftmost node of `node`'s subtree that
 * overlaps [qs, ql], or NIL. Caller guarantees qs <= subtreeLast(node).
 * `above` is where iter_next's climb out of this subtree would stop
 * (UNKNOWN if the caller does not know); the match's own stop is recorded
 * in the store for the iterNextSlot that usually follows.
 */
export function subtreeSearch<T>(
  s: NodeStore<T>,
  node: number,
  qs: number,
  ql: number,
  above: number,
): number {
  const { start, last, subtreeLast: sub, left, right } = s;
  let stop = above;
  for (;;) {
    // Loop invariant: qs <= subtreeLast(node) (Cond2 holds somewhere below).
    const l = left[node * 8]!;
    if (l && qs <= sub[l * 4]!) {
      // The leftmost node satisfying Cond2 is in the left subtree: if it
      // fails Cond1, every node to its right fails Cond1 too.
      stop = node;
      node = l;
      continue;
    }
    if (start[node * 4]! > ql) return NIL; // !Cond1
    if (qs <= last[node * 4]!) {
      s.nextAncestorOf = node;
      s.nextAncestor = stop;
      return node; // leftmost match
    }
    node = right[node * 8]!;
    if (!node || qs > sub[node * 4]!) return NIL;
  }
}

/**
 * ITPREFIX_iter_first(): the overlapping node with the lowest start (equal
 * starts: the first inserted), or NIL. Rejects in O(1) through the root's
 * subtree max and the cached leftmost node's start.
 */
export function iterFirstSlot<T>(s: NodeStore<T>, qs: number, ql: number): number {
  const root = s.root;
  if (!root) return NIL;
  if (s.subtreeLast[root * 4]! < qs) return NIL;
  if (s.start[s.leftmost * 4]! > ql) return NIL;
  return subtreeSearch(s, root, qs, ql, NIL);
}

/**
 * ITPREFIX_iter_next(): the next overlapping node after `node` in in-order,
 * or NIL. Searches node's right subtree first, then climbs to the first
 * ancestor reached from a left child, stopping once starts pass `ql`. The
 * climb is skipped when the search that found `node` recorded where it ends.
 */
export function iterNextSlot<T>(s: NodeStore<T>, node: number, qs: number, ql: number): number {
  const { start, last, subtreeLast: sub, right } = s;
  let rb = right[node * 8]!;
  let above = node === s.nextAncestorOf ? s.nextAncestor : UNKNOWN;
  for (;;) {
    // Loop invariants: start(node) <= ql (Cond1) and rb === right(node).
    if (rb && qs <= sub[rb * 4]!) return subtreeSearch(s, rb, qs, ql, above);
    node = above === UNKNOWN ? leftAncestor(s, node) : above;
    if (!node) return NIL;
    above = UNKNOWN;
    rb = right[node * 8]!;
    if (ql < start[node * 4]!) return NIL; // !Cond1
    if (qs <= last[node * 4]!) return node; // Cond2
  }
}
