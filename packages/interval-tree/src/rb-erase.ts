import { augmentCopy, augmentPropagate, augmentRotate } from './augment.js';
import { BLACK, NIL, RED } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  changeChild,
  isRed,
  leftOf,
  nextSlot,
  parentOf,
  rightOf,
  rotateSetParents,
  setBlack,
  setLeft,
  setParent,
  setParentColor,
  setRed,
  setRight,
} from './rb-links.js';

/**
 * interval_tree_remove() = rb_erase_augmented_cached(): advance rb_leftmost
 * if `node` is it, unlink the node (__rb_erase_augmented), then repair a
 * missing black (__rb_erase_color) from the parent it returns.
 */
export function eraseSlot<T>(s: NodeStore<T>, node: number): void {
  s.nextAncestorOf = NIL;
  if (s.leftmost === node) s.leftmost = nextSlot(s, node);
  const rebalance = unlinkNode(s, node);
  if (rebalance !== NIL) eraseColor(s, rebalance);
}

/**
 * __rb_erase_augmented(): returns the parent below which a black node went
 * missing, or NIL when the colours are already right.
 */
function unlinkNode<T>(s: NodeStore<T>, node: number): number {
  const child = rightOf(s, node);
  const onlyLeft = leftOf(s, node);
  const parent = parentOf(s, node);
  if (onlyLeft === NIL || child === NIL) {
    // Case 1: at most one child, which takes node's place and colour.
    const heir = onlyLeft === NIL ? child : onlyLeft;
    const wasBlack = !isRed(s, node);
    changeChild(s, node, heir, parent);
    if (heir !== NIL) s.pc[heir] = s.pc[node]!;
    augmentPropagate(s, parent, NIL);
    return heir === NIL && wasBlack ? parent : NIL;
  }
  return unlinkWithSuccessor(s, node, child);
}

/** Cases 2 and 3 of __rb_erase_augmented(): the in-order successor replaces `node`. */
function unlinkWithSuccessor<T>(s: NodeStore<T>, node: number, child: number): number {
  let successor = child;
  let parent = child;
  let child2: number;
  let tmp = leftOf(s, child);
  if (tmp === NIL) {
    // Case 2: the successor is node's right child.
    child2 = rightOf(s, successor);
    augmentCopy(s, node, successor);
  } else {
    // Case 3: the successor is the leftmost node of the right subtree.
    do {
      parent = successor;
      successor = tmp;
      tmp = leftOf(s, tmp);
    } while (tmp !== NIL);
    child2 = rightOf(s, successor);
    setLeft(s, parent, child2);
    setRight(s, successor, child);
    setParent(s, child, successor);
    augmentCopy(s, node, successor);
    augmentPropagate(s, parent, successor);
  }
  tmp = leftOf(s, node);
  setLeft(s, successor, tmp);
  setParent(s, tmp, successor);
  const nodePc = s.pc[node]!;
  changeChild(s, node, successor, nodePc >> 1);
  let rebalance = NIL;
  if (child2 !== NIL) setParentColor(s, child2, parent, BLACK);
  else if (!isRed(s, successor)) rebalance = parent;
  s.pc[successor] = nodePc;
  augmentPropagate(s, successor, NIL);
  return rebalance;
}

/**
 * __rb_erase_color(): `parent` lost a black node on one side (`node` is the
 * deficient child, NIL at first); rotate and recolour until the black heights
 * agree again.
 */
function eraseColor<T>(s: NodeStore<T>, parent: number): void {
  let node = NIL;
  for (;;) {
    const leftDeficient = node !== rightOf(s, parent);
    const done = leftDeficient ? fixLeft(s, parent) : fixRight(s, parent);
    if (done) return;
    // Case 2 with a black parent: the deficit moves one level up.
    node = parent;
    parent = parentOf(s, node);
    if (parent === NIL) return;
  }
}

/** One step of __rb_erase_color() when the deficient side is the left one; true when done. */
function fixLeft<T>(s: NodeStore<T>, parent: number): boolean {
  let sibling = rightOf(s, parent);
  if (isRed(s, sibling)) {
    // Case 1: left rotate at parent; the sibling's left child becomes the sibling.
    const tmp1 = leftOf(s, sibling);
    setRight(s, parent, tmp1);
    setLeft(s, sibling, parent);
    setParentColor(s, tmp1, parent, BLACK);
    rotateSetParents(s, parent, sibling, RED);
    augmentRotate(s, parent, sibling);
    sibling = tmp1;
  }
  let tmp1 = rightOf(s, sibling);
  if (tmp1 === NIL || !isRed(s, tmp1)) {
    const tmp2 = leftOf(s, sibling);
    if (tmp2 === NIL || !isRed(s, tmp2)) return flipSibling(s, parent, sibling);
    // Case 3: right rotate at sibling.
    tmp1 = rightOf(s, tmp2);
    setLeft(s, sibling, tmp1);
    setRight(s, tmp2, sibling);
    setRight(s, parent, tmp2);
    if (tmp1 !== NIL) setParentColor(s, tmp1, sibling, BLACK);
    augmentRotate(s, sibling, tmp2);
    tmp1 = sibling;
    sibling = tmp2;
  }
  // Case 4: left rotate at parent and recolour.
  const tmp2 = leftOf(s, sibling);
  setRight(s, parent, tmp2);
  setLeft(s, sibling, parent);
  setParentColor(s, tmp1, sibling, BLACK);
  if (tmp2 !== NIL) setParent(s, tmp2, parent);
  rotateSetParents(s, parent, sibling, BLACK);
  augmentRotate(s, parent, sibling);
  return true;
}

/** The mirror image of {@link fixLeft}. */
function fixRight<T>(s: NodeStore<T>, parent: number): boolean {
  let sibling = leftOf(s, parent);
  if (isRed(s, sibling)) {
    const tmp1 = rightOf(s, sibling);
    setLeft(s, parent, tmp1);
    setRight(s, sibling, parent);
    setParentColor(s, tmp1, parent, BLACK);
    rotateSetParents(s, parent, sibling, RED);
    augmentRotate(s, parent, sibling);
    sibling = tmp1;
  }
  let tmp1 = leftOf(s, sibling);
  if (tmp1 === NIL || !isRed(s, tmp1)) {
    const tmp2 = rightOf(s, sibling);
    if (tmp2 === NIL || !isRed(s, tmp2)) return flipSibling(s, parent, sibling);
    tmp1 = leftOf(s, tmp2);
    setRight(s, sibling, tmp1);
    setLeft(s, tmp2, sibling);
    setLeft(s, parent, tmp2);
    if (tmp1 !== NIL) setParentColor(s, tmp1, sibling, BLACK);
    augmentRotate(s, sibling, tmp2);
    tmp1 = sibling;
    sibling = tmp2;
  }
  const tmp2 = rightOf(s, sibling);
  setLeft(s, parent, tmp2);
  setRight(s, sibling, parent);
  setParentColor(s, tmp1, sibling, BLACK);
  if (tmp2 !== NIL) setParent(s, tmp2, parent);
  rotateSetParents(s, parent, sibling, BLACK);
  augmentRotate(s, parent, sibling);
  return true;
}

/**
 * Case 2: both of the sibling's children are black, so the sibling turns red.
 * A red parent turns black and absorbs the deficit (done); a black parent
 * passes it up (not done).
 */
function flipSibling<T>(s: NodeStore<T>, parent: number, sibling: number): boolean {
  setRed(s, sibling);
  if (!isRed(s, parent)) return false;
  setBlack(s, parent);
  return true;
}
