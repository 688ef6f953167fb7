import { BLACK, LEFT, NIL, RED, RIGHT } from './node-layout.js';
import type { NodeStore } from './node-store.js';

/** The left child of `node` (i.e. node->rb_left). */
export function leftOf<T>(s: NodeStore<T>, node: number): number {
  return s.i[node * 8 + LEFT]!;
}

/** The right child of `node` (node->rb_right). */
export function rightOf<T>(s: NodeStore<T>, node: number): number {
  return s.i[node * 8 + RIGHT]!;
}

export function setLeft<T>(s: NodeStore<T>, node: number, child: number): void {
  s.i[node * 8 + LEFT] = child;
}

export function setRight<T>(s: NodeStore<T>, node: number, child: number): void {
  s.i[node * 8 + RIGHT] = child;
}

/** The child of `node` on `side` (0: rb_left, 1: rb_right). */
export function childOf<T>(s: NodeStore<T>, node: number, side: number): number {
  return s.i[node * 8 + LEFT + side]!;
}

/** Sets the child of `node` on `side` (0: rb_left, 1: rb_right). */
export function setChild<T>(s: NodeStore<T>, node: number, side: number, child: number): void {
  s.i[node * 8 + LEFT + side] = child;
}

/** rb_parent() */
export function parentOf<T>(s: NodeStore<T>, node: number): number {
  return s.pc[node]! >> 1;
}

/** rb_color(): RED or BLACK. */
export function colorOf<T>(s: NodeStore<T>, node: number): number {
  return s.pc[node]! & 1;
}

/** rb_is_red() */
export function isRed<T>(s: NodeStore<T>, node: number): boolean {
  return (s.pc[node]! & 1) === RED;
}

/** rb_set_parent_color() */
export function setParentColor<T>(s: NodeStore<T>, node: number, parent: number, c: number): void {
  s.pc[node] = (parent << 1) | c;
}

/** rb_set_parent(): keeps the colour. */
export function setParent<T>(s: NodeStore<T>, node: number, parent: number): void {
  s.pc[node] = (parent << 1) | (s.pc[node]! & 1);
}

/** rb_set_black() */
export function setBlack<T>(s: NodeStore<T>, node: number): void {
  s.pc[node]! |= BLACK;
}

/** Makes `node` red, keeping its parent (the kernel writes the whole word). */
export function setRed<T>(s: NodeStore<T>, node: number): void {
  s.pc[node]! &= ~BLACK;
}

/** __rb_change_child(): make `parent` (or the root) point at `nw` where it pointed at `old`. */
export function changeChild<T>(s: NodeStore<T>, old: number, nw: number, parent: number): void {
  if (parent === NIL) s.root = nw;
  else if (leftOf(s, parent) === old) setLeft(s, parent, nw);
  else setRight(s, parent, nw);
}

/**
 * __rb_rotate_set_parents(): `nw` takes `old`'s parent and colour, `old`
 * becomes `nw`'s child with `color`, and the parent's link follows.
 */
export function rotateSetParents<T>(s: NodeStore<T>, old: number, nw: number, color: number): void {
  const parent = parentOf(s, old);
  s.pc[nw] = s.pc[old]!;
  setParentColor(s, old, nw, color);
  changeChild(s, old, nw, parent);
}

/** rb_next(): the in-order successor of `node`, or NIL. */
export function nextSlot<T>(s: NodeStore<T>, node: number): number {
  let r = rightOf(s, node);
  if (r !== NIL) {
    for (let l = leftOf(s, r); l !== NIL; l = leftOf(s, r)) r = l;
    return r;
  }
  return leftAncestor(s, node);
}

/**
 * rb_next()'s climb, also iter_next()'s: the first ancestor of `node` that
 * holds it in its left subtree, or NIL when `node` is the last in order.
 */
export function leftAncestor<T>(s: NodeStore<T>, node: number): number {
  let p = parentOf(s, node);
  while (p !== NIL && node === rightOf(s, p)) {
    node = p;
    p = parentOf(s, p);
  }
  return p;
}
