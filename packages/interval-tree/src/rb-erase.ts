import { augmentCopy, augmentPropagate, augmentRotate } from './augment.js';
import { BLACK, NIL, RED } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  changeChild,
  childOf,
  isRed,
  leftOf,
  nextSlot,
  parentOf,
  rightOf,
  rotateSetParents,
  setBlack,
  setChild,
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
    if (fixDeficit(s, parent, +(node === rightOf(s, parent)))) return;
    // Case 2 with a black parent: the deficit moves one level up.
    node = parent;
    parent = parentOf(s, node);
    if (parent === NIL) return;
  }
}

/**
 * One step of __rb_erase_color(); true when done. `near` is the deficient
 * side (0: left, the kernel's first branch; 1: right, its mirror image) and
 * `far` the sibling's side.
 */
function fixDeficit<T>(s: NodeStore<T>, parent: number, near: number): boolean {
  const far = 1 - near;
  let sibling = childOf(s, parent, far);
  if (isRed(s, sibling)) {
    // Case 1: rotate at parent towards `near`; the sibling's near child becomes the sibling.
    const tmp1 = childOf(s, sibling, near);
    setChild(s, parent, far, tmp1);
    setChild(s, sibling, near, parent);
    setParentColor(s, tmp1, parent, BLACK);
    rotateSetParents(s, parent, sibling, RED);
    augmentRotate(s, parent, sibling);
    sibling = tmp1;
  }
  let tmp1 = childOf(s, sibling, far);
  if (tmp1 === NIL || !isRed(s, tmp1)) {
    const tmp2 = childOf(s, sibling, near);
    if (tmp2 === NIL || !isRed(s, tmp2)) return flipSibling(s, parent, sibling);
    // Case 3: rotate at sibling towards `far`.
    tmp1 = childOf(s, tmp2, far);
    setChild(s, sibling, near, tmp1);
    setChild(s, tmp2, far, sibling);
    setChild(s, parent, far, tmp2);
    if (tmp1 !== NIL) setParentColor(s, tmp1, sibling, BLACK);
    augmentRotate(s, sibling, tmp2);
    tmp1 = sibling;
    sibling = tmp2;
  }
  // Case 4: rotate at parent towards `near` and recolour.
  const tmp2 = childOf(s, sibling, near);
  setChild(s, parent, far, tmp2);
  setChild(s, sibling, near, parent);
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
