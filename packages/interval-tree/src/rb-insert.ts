import { augmentRotate } from './augment.js';
import { NIL } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  BLACK,
  isRed,
  parentOf,
  RED,
  rotateSetParents,
  setBlack,
  setParentColor,
  setRed,
} from './rb-links.js';

/**
 * interval_tree_insert(): descend by `start` (equal starts go right, so they
 * stay in insertion order), raising every ancestor's subtree max to `last` on
 * the way down, link the node as a red leaf, keep rb_leftmost, then rebalance.
 * The slot's start and last must already be written.
 */
export function insertSlot<T>(s: NodeStore<T>, node: number): void {
  s.nextAncestorOf = NIL;
  const { start: starts, subtreeLast: sub, left: child } = s;
  const start = starts[node * 4]!;
  const last = s.last[node * 4]!;
  let parent = NIL;
  let cur = s.root;
  let right = 0;
  let wentRight = 0;
  while (cur) {
    parent = cur;
    if (sub[cur * 4]! < last) sub[cur * 4] = last;
    // The side is an index (child[n * 8 + side], node-layout.ts), not a
    // branch: it is a coin toss per level, which the CPU mispredicts half the
    // time. Unary plus (not Number()) is what V8 compiles to a flag-to-integer
    // move.
    right = +(start >= starts[cur * 4]!);
    wentRight |= right;
    cur = child[cur * 8 + right]!;
  }
  sub[node * 4] = last;
  linkNode(s, node, parent, right);
  if (!wentRight) s.leftmost = node;
  insertColor(s, node);
}

/** rb_link_node(): attach a red leaf on `side` of `parent` (0: left, 1: right). */
function linkNode<T>(s: NodeStore<T>, node: number, parent: number, side: number): void {
  s.left[node * 8] = NIL;
  s.right[node * 8] = NIL;
  setParentColor(s.pc, node, parent, RED);
  if (!parent) s.root = node;
  else s.left[parent * 8 + side] = node; // the child on `side`
}

/** __rb_insert(): restore the red-black rules after linking the red leaf `node`. */
function insertColor<T>(s: NodeStore<T>, node: number): void {
  const { left: child, pc } = s;
  let parent = parentOf(pc, node);
  for (;;) {
    // Loop invariant: `node` is red.
    if (!parent) {
      setBlack(pc, node); // the root is black
      return;
    }
    if (!isRed(pc, parent)) return;
    // The parent is red, so it is not the root: the grandparent exists.
    const gparent = parentOf(pc, parent);
    const side = +(parent === s.right[gparent * 8]);
    const uncle = child[gparent * 8 + 1 - side]!;
    if (uncle && isRed(pc, uncle)) {
      // Case 1: colour flip, then continue two levels up.
      setBlack(pc, uncle);
      setBlack(pc, parent);
      node = gparent;
      parent = parentOf(pc, node);
      setRed(pc, node);
      continue;
    }
    rotateAtGparent(s, node, parent, gparent, side);
    return;
  }
}

/**
 * Cases 2 and 3: the uncle is black. `side` is the side of gparent that
 * `parent` hangs on (0: left, the kernel's first branch; 1: right, its
 * mirror image), `away` the other one.
 */
function rotateAtGparent<T>(
  s: NodeStore<T>,
  node: number,
  parent: number,
  gparent: number,
  side: number,
): void {
  const { left: child, pc } = s;
  const away = 1 - side;
  let tmp = child[parent * 8 + away]!;
  if (node === tmp) {
    // Case 2: rotate at parent towards `side`, turning it into case 3.
    tmp = child[node * 8 + side]!;
    child[parent * 8 + away] = tmp;
    child[node * 8 + side] = parent;
    if (tmp) setParentColor(pc, tmp, parent, BLACK);
    setParentColor(pc, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = child[node * 8 + away]!;
  }
  // Case 3: rotate at gparent towards `away`.
  child[gparent * 8 + side] = tmp;
  child[parent * 8 + away] = gparent;
  if (tmp) setParentColor(pc, tmp, gparent, BLACK);
  rotateSetParents(s, gparent, parent, RED);
  augmentRotate(s, gparent, parent);
}
