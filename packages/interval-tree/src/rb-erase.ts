import { augmentCopy, augmentPropagate, augmentRotate } from './augment.js';
import { NIL } from './node-layout.js';
import type { NodeStore } from './node-store.js';
import {
  BLACK,
  changeChild,
  isRed,
  nextSlot,
  parentOf,
  RED,
  rotateSetParents,
  setBlack,
  setParent,
  setParentColor,
  setRed,
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
  if (rebalance) eraseColor(s, rebalance);
}

/**
 * __rb_erase_augmented(): returns the parent below which a black node went
 * missing, or NIL when the colours are already right.
 */
function unlinkNode<T>(s: NodeStore<T>, node: number): number {
  const pc = s.pc;
  const child = s.right[node * 8]!;
  const onlyLeft = s.left[node * 8]!;
  const parent = parentOf(pc, node);
  if (!onlyLeft || !child) {
    // Case 1: at most one child, which takes node's place and colour.
    const heir = onlyLeft || child;
    const wasBlack = !isRed(pc, node);
    changeChild(s, node, heir, parent);
    if (heir) pc[heir] = pc[node]!;
    augmentPropagate(s, parent, NIL);
    return !heir && wasBlack ? parent : NIL;
  }
  return unlinkWithSuccessor(s, node, child);
}

/** Cases 2 and 3 of __rb_erase_augmented(): the in-order successor replaces `node`. */
function unlinkWithSuccessor<T>(s: NodeStore<T>, node: number, child: number): number {
  const { left, right, pc } = s;
  let successor = child;
  let parent = child;
  let child2: number;
  let tmp = left[child * 8]!;
  if (!tmp) {
    // Case 2: the successor is node's right child.
    child2 = right[successor * 8]!;
    augmentCopy(s, node, successor);
  } else {
    // Case 3: the successor is the leftmost node of the right subtree.
    do {
      parent = successor;
      successor = tmp;
      tmp = left[tmp * 8]!;
    } while (tmp);
    child2 = right[successor * 8]!;
    left[parent * 8] = child2;
    right[successor * 8] = child;
    setParent(pc, child, successor);
    augmentCopy(s, node, successor);
    augmentPropagate(s, parent, successor);
  }
  tmp = left[node * 8]!;
  left[successor * 8] = tmp;
  setParent(pc, tmp, successor);
  const nodePc = pc[node]!;
  changeChild(s, node, successor, nodePc >> 1);
  let rebalance = NIL;
  if (child2) setParentColor(pc, child2, parent, BLACK);
  else if (!isRed(pc, successor)) rebalance = parent;
  pc[successor] = nodePc;
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
    if (fixDeficit(s, parent, +(node === s.right[parent * 8]))) return;
    // Case 2 with a black parent: the deficit moves one level up.
    node = parent;
    parent = parentOf(s.pc, node);
    if (!parent) return;
  }
}

/**
 * One step of __rb_erase_color(); true when done. `near` is the deficient
 * side (0: left, the kernel's first branch; 1: right, its mirror image) and
 * `far` the sibling's side; `child[n * 8 + side]` is n's child on `side`.
 */
function fixDeficit<T>(s: NodeStore<T>, parent: number, near: number): boolean {
  const { left: child, pc } = s;
  const far = 1 - near;
  let sibling = child[parent * 8 + far]!;
  if (isRed(pc, sibling)) {
    // Case 1: rotate at parent towards `near`; the sibling's near child becomes the sibling.
    const tmp1 = child[sibling * 8 + near]!;
    child[parent * 8 + far] = tmp1;
    child[sibling * 8 + near] = parent;
    setParentColor(pc, tmp1, parent, BLACK);
    rotateSetParents(s, parent, sibling, RED);
    augmentRotate(s, parent, sibling);
    sibling = tmp1;
  }
  let tmp1 = child[sibling * 8 + far]!;
  if (!tmp1 || !isRed(pc, tmp1)) {
    const tmp2 = child[sibling * 8 + near]!;
    if (!tmp2 || !isRed(pc, tmp2)) return flipSibling(pc, parent, sibling);
    // Case 3: rotate at sibling towards `far`.
    tmp1 = child[tmp2 * 8 + far]!;
    child[sibling * 8 + near] = tmp1;
    child[tmp2 * 8 + far] = sibling;
    child[parent * 8 + far] = tmp2;
    if (tmp1) setParentColor(pc, tmp1, sibling, BLACK);
    augmentRotate(s, sibling, tmp2);
    tmp1 = sibling;
    sibling = tmp2;
  }
  // Case 4: rotate at parent towards `near` and recolour.
  const tmp2 = child[sibling * 8 + near]!;
  child[parent * 8 + far] = tmp2;
  child[sibling * 8 + near] = parent;
  setParentColor(pc, tmp1, sibling, BLACK);
  if (tmp2) setParent(pc, tmp2, parent);
  rotateSetParents(s, parent, sibling, BLACK);
  augmentRotate(s, parent, sibling);
  return true;
}

/**
 * Case 2: both of the sibling's children are black, so the sibling turns red.
 * A red parent turns black and absorbs the deficit (done); a black parent
 * passes it up (not done).
 */
function flipSibling(pc: Int32Array, parent: number, sibling: number): boolean {
  setRed(pc, sibling);
  if (!isRed(pc, parent)) return false;
  setBlack(pc, parent);
  return true;
}
