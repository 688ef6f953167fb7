import { augmentRotate } from './augment.js';
import { BLACK, LAST, LEFT, NIL, RED, START, SUBTREE_LAST } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  isRed,
  leftOf,
  parentOf,
  rightOf,
  rotateSetParents,
  setBlack,
  setLeft,
  setParentColor,
  setRed,
  setRight,
} from './rb-links.js';

/**
 * interval_tree_insert(): descend by `start` (equal starts go right, so they
 * stay in insertion order), raising every ancestor's subtree max to `last` on
 * the way down, link the node as a red leaf, keep rb_leftmost, then rebalance.
 * The slot's start and last must already be written.
 */
export function insertSlot<T>(s: NodeStore<T>, node: number): void {
  s.nextAncestorOf = NIL;
  const { f, i } = s;
  const start = f[node * 4 + START]!;
  const last = f[node * 4 + LAST]!;
  let parent = NIL;
  let cur = s.root;
  let right = 0;
  let wentRight = 0;
  while (cur !== NIL) {
    parent = cur;
    if (f[cur * 4 + SUBTREE_LAST]! < last) f[cur * 4 + SUBTREE_LAST] = last;
    // The side is an index (RIGHT = LEFT + 1), not a branch: it is a coin
    // toss per level, which the CPU mispredicts half the time. Unary plus
    // (not Number()) is what V8 compiles to a flag-to-integer move.
    right = +(start >= f[cur * 4 + START]!);
    wentRight |= right;
    cur = i[cur * 8 + LEFT + right]!;
  }
  f[node * 4 + SUBTREE_LAST] = last;
  linkNode(s, node, parent, right === 0);
  if (wentRight === 0) s.leftmost = node;
  insertColor(s, node);
}

/** rb_link_node(): attach a red leaf under `parent`. */
function linkNode<T>(s: NodeStore<T>, node: number, parent: number, goLeft: boolean): void {
  setLeft(s, node, NIL);
  setRight(s, node, NIL);
  setParentColor(s, node, parent, RED);
  if (parent === NIL) s.root = node;
  else if (goLeft) setLeft(s, parent, node);
  else setRight(s, parent, node);
}

/** __rb_insert(): restore the red-black rules after linking the red leaf `node`. */
function insertColor<T>(s: NodeStore<T>, node: number): void {
  let parent = parentOf(s, node);
  for (;;) {
    // Loop invariant: `node` is red.
    if (parent === NIL) {
      setBlack(s, node); // the root is black
      return;
    }
    if (!isRed(s, parent)) return;
    // The parent is red, so it is not the root: the grandparent exists.
    const gparent = parentOf(s, parent);
    const parentIsRight = parent === rightOf(s, gparent);
    const uncle = parentIsRight ? leftOf(s, gparent) : rightOf(s, gparent);
    if (uncle !== NIL && isRed(s, uncle)) {
      // Case 1: colour flip, then continue two levels up.
      setBlack(s, uncle);
      setBlack(s, parent);
      node = gparent;
      parent = parentOf(s, node);
      setRed(s, node);
      continue;
    }
    if (parentIsRight) rotateRightLeaning(s, node, parent, gparent);
    else rotateLeftLeaning(s, node, parent, gparent);
    return;
  }
}

/** Cases 2 and 3 when `parent` is gparent's left child. */
function rotateLeftLeaning<T>(
  s: NodeStore<T>,
  node: number,
  parent: number,
  gparent: number,
): void {
  let tmp = rightOf(s, parent);
  if (node === tmp) {
    // Case 2: left rotate at parent, turning it into case 3.
    tmp = leftOf(s, node);
    setRight(s, parent, tmp);
    setLeft(s, node, parent);
    if (tmp !== NIL) setParentColor(s, tmp, parent, BLACK);
    setParentColor(s, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = rightOf(s, node);
  }
  // Case 3: right rotate at gparent.
  setLeft(s, gparent, tmp);
  setRight(s, parent, gparent);
  if (tmp !== NIL) setParentColor(s, tmp, gparent, BLACK);
  rotateSetParents(s, gparent, parent, RED);
  augmentRotate(s, gparent, parent);
}

/** Cases 2 and 3 when `parent` is gparent's right child (the mirror image). */
function rotateRightLeaning<T>(
  s: NodeStore<T>,
  node: number,
  parent: number,
  gparent: number,
): void {
  let tmp = leftOf(s, parent);
  if (node === tmp) {
    tmp = rightOf(s, node);
    setLeft(s, parent, tmp);
    setRight(s, node, parent);
    if (tmp !== NIL) setParentColor(s, tmp, parent, BLACK);
    setParentColor(s, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = leftOf(s, node);
  }
  setRight(s, gparent, tmp);
  setLeft(s, parent, gparent);
  if (tmp !== NIL) setParentColor(s, tmp, gparent, BLACK);
  rotateSetParents(s, gparent, parent, RED);
  augmentRotate(s, gparent, parent);
}
