import type { NodeStore } from './node-store.js';

/*
 * The parent-and-colour word and the link helpers of
 * include/linux/rbtree_augmented.h, over slots. pc[n] = parent << 1 | colour,
 * as __rb_parent_color packs them; slot 0 is NULL (node-layout.ts). Like the
 * kernel's macros, the helpers test the colour bit with a literal 1. The
 * child links are read in place, as the kernel reads node->rb_left.
 */

/** Node colours, with the kernel's values (RB_RED 0, RB_BLACK 1). */
export const RED = 0;
export const BLACK = 1;

/** rb_parent() */
export function parentOf(pc: Int32Array, n: number): number {
  return pc[n]! >> 1;
}

/** rb_color(): RED or BLACK. */
export function colorOf(pc: Int32Array, n: number): number {
  return pc[n]! & 1;
}

/** rb_is_red() */
export function isRed(pc: Int32Array, n: number): boolean {
  return !(pc[n]! & 1);
}

/** rb_set_parent_color() */
export function setParentColor(pc: Int32Array, n: number, parent: number, color: number): void {
  pc[n] = (parent << 1) | color;
}

/** rb_set_parent(): keeps the colour. */
export function setParent(pc: Int32Array, n: number, parent: number): void {
  pc[n] = (parent << 1) | (pc[n]! & 1);
}

/** rb_set_black() */
export function setBlack(pc: Int32Array, n: number): void {
  pc[n]! |= 1;
}

/** Makes `n` red, keeping its parent (the kernel writes the whole word). */
export function setRed(pc: Int32Array, n: number): void {
  pc[n]! &= ~1;
}

/** __rb_change_child(): make `parent` (or the root) point at `nw` where it pointed at `old`. */
export function changeChild<T>(s: NodeStore<T>, old: number, nw: number, parent: number): void {
  if (!parent) s.root = nw;
  else if (s.left[parent * 8] === old) s.left[parent * 8] = nw;
  else s.right[parent * 8] = nw;
}

/**
 * __rb_rotate_set_parents(): `nw` takes `old`'s parent and colour, `old`
 * becomes `nw`'s child with `color`, and the parent's link follows.
 */
export function rotateSetParents<T>(s: NodeStore<T>, old: number, nw: number, color: number): void {
  const pc = s.pc;
  const parent = parentOf(pc, old);
  pc[nw] = pc[old]!;
  setParentColor(pc, old, nw, color);
  changeChild(s, old, nw, parent);
}

/** rb_next(): the in-order successor of `n`, or NIL. */
export function nextSlot<T>(s: NodeStore<T>, n: number): number {
  const left = s.left;
  let r = s.right[n * 8]!;
  if (r) {
    for (let l = left[r * 8]!; l; l = left[r * 8]!) r = l;
    return r;
  }
  return leftAncestor(s, n);
}

/**
 * rb_next()'s climb, also iter_next()'s: the first ancestor of `n` that
 * holds it in its left subtree, or NIL when `n` is the last in order.
 */
export function leftAncestor<T>(s: NodeStore<T>, n: number): number {
  const { right, pc } = s;
  let p = parentOf(pc, n);
  while (p && n === right[p * 8]) {
    n = p;
    p = parentOf(pc, p);
  }
  return p;
}
