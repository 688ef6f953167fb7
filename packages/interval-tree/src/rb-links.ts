import { LEFT, NIL, type NodeStore, RIGHT } from './node-store.js';

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

/** rb_set_parent_color() */
export function setParentColor<T>(s: NodeStore<T>, node: number, parent: number, c: number): void {
  s.parent[node] = parent;
  s.color[node] = c;
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
  const parent = s.parent[old]!;
  setParentColor(s, nw, parent, s.color[old]!);
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
  const parent = s.parent;
  let p = parent[node]!;
  while (p !== NIL && node === rightOf(s, p)) {
    node = p;
    p = parent[p]!;
  }
  return p;
}
