import { augmentRotate } from './augment.js';
import { BLACK, NIL, type NodeStore, RED } from './node-store.js';
import { rotateSetParents } from './rb-links.js';

/**
 * interval_tree_insert(): descend by `start` (equal starts go right, so they
 * stay in insertion order), raising every ancestor's subtree max to `last` on
 * the way down, link the node as a red leaf, keep rb_leftmost, then rebalance.
 * The slot's start/last must already be written.
 */
export function insertSlot<T>(s: NodeStore<T>, node: number): void {
  const { start: starts, subtreeLast, left, right } = s;
  const start = starts[node]!;
  const last = s.last[node]!;
  let parent = NIL;
  let cur = s.root;
  let goLeft = false;
  let leftmost = true;
  while (cur !== NIL) {
    parent = cur;
    if (subtreeLast[cur]! < last) subtreeLast[cur] = last;
    goLeft = start < starts[cur]!;
    if (goLeft) cur = left[cur]!;
    else {
      cur = right[cur]!;
      leftmost = false;
    }
  }
  subtreeLast[node] = last;
  linkNode(s, node, parent, goLeft);
  if (leftmost) s.leftmost = node;
  insertColor(s, node);
}

/** rb_link_node(): attach a red leaf under `parent`. */
function linkNode<T>(s: NodeStore<T>, node: number, parent: number, goLeft: boolean): void {
  s.left[node] = NIL;
  s.right[node] = NIL;
  s.parent[node] = parent;
  s.color[node] = RED;
  if (parent === NIL) s.root = node;
  else if (goLeft) s.left[parent] = node;
  else s.right[parent] = node;
}

/** __rb_insert(): restore the red-black rules after linking the red leaf `node`. */
function insertColor<T>(s: NodeStore<T>, node: number): void {
  const { color, parent: parentOf, right } = s;
  let parent = parentOf[node]!;
  for (;;) {
    // The loop invariant: `node` is red.
    if (parent === NIL) {
      color[node] = BLACK; // the root is black
      return;
    }
    if (color[parent] === BLACK) return;
    // The parent is red, so it is not the root: the grandparent exists.
    const gparent = parentOf[parent]!;
    const uncle = parent === right[gparent] ? s.left[gparent]! : right[gparent]!;
    if (uncle !== NIL && color[uncle] === RED) {
      // Case 1: colour flip, then continue two levels up.
      color[uncle] = BLACK;
      color[parent] = BLACK;
      node = gparent;
      parent = parentOf[node]!;
      color[node] = RED;
      continue;
    }
    if (parent === right[gparent]) rotateRightLeaning(s, node, parent, gparent);
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
  const { left, right } = s;
  let tmp = right[parent]!;
  if (node === tmp) {
    // Case 2: left rotate at parent, turning it into case 3.
    tmp = left[node]!;
    right[parent] = tmp;
    left[node] = parent;
    if (tmp !== NIL) setParentColor(s, tmp, parent, BLACK);
    setParentColor(s, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = right[node]!;
  }
  // Case 3: right rotate at gparent.
  left[gparent] = tmp;
  right[parent] = gparent;
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
  const { left, right } = s;
  let tmp = left[parent]!;
  if (node === tmp) {
    tmp = right[node]!;
    left[parent] = tmp;
    right[node] = parent;
    if (tmp !== NIL) setParentColor(s, tmp, parent, BLACK);
    setParentColor(s, parent, node, RED);
    augmentRotate(s, parent, node);
    parent = node;
    tmp = left[node]!;
  }
  right[gparent] = tmp;
  left[parent] = gparent;
  if (tmp !== NIL) setParentColor(s, tmp, gparent, BLACK);
  rotateSetParents(s, gparent, parent, RED);
  augmentRotate(s, gparent, parent);
}

/** rb_set_parent_color() */
export function setParentColor<T>(s: NodeStore<T>, node: number, parent: number, c: number): void {
  s.parent[node] = parent;
  s.color[node] = c;
}
