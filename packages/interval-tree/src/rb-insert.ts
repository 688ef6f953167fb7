import { augmentRotate } from './augment.js';
import { BLACK, LAST, LEFT, NIL, RED, START, SUBTREE_LAST } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  childOf,
  isRed,
  parentOf,
  rightOf,
  rotateSetParents,
  setBlack,
  setChild,
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
  linkNode(s, node, parent, right);
  if (wentRight === 0) s.leftmost = node;
  insertColor(s, node);
}

/** rb_link_node(): attach a red leaf on `side` of `parent` (0: left, 1: right). */
function linkNode<T>(s: NodeStore<T>, node: number, parent: number, side: number): void {
  setLeft(s, node, NIL);
  setRight(s, node, NIL);
  setParentColor(s, node, parent, RED);
  if (parent === NIL) s.root = node;
  else setChild(s, parent, side, node);
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
    const side = +(parent === rightOf(s, gparent));
    const uncle = childOf(s, gparent, 1 - side);
    if (uncle !== NIL && isRed(s, uncle)) {
      // Case 1: colour flip, then continue two levels up.
      setBlack(s, uncle);
      setBlack(s, parent);
      node = gparent;
      parent = parentOf(s, node);
      setRed(s, node);
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
  const away = 1 - side;
  let tmp = childOf(s, parent, away);
  if (node === tmp) {
    // Case 2: rotate at parent towards `side`, turning it into case 3.
    tmp = childOf(s, node, side);
    setChild(s, parent, away, tmp);
    setChild(s, node, side, parent);
    if (tmp !== NIL) setParentColor(s, tmp, parent, BLACK);
    setParentColor(s, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = childOf(s, node, away);
  }
  // Case 3: rotate at gparent towards `away`.
  setChild(s, gparent, side, tmp);
  setChild(s, parent, away, gparent);
  if (tmp !== NIL) setParentColor(s, tmp, gparent, BLACK);
  rotateSetParents(s, gparent, parent, RED);
  augmentRotate(s, gparent, parent);
}
