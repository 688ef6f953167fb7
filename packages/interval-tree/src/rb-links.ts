import { NIL, type NodeStore } from './node-store.js';

/** __rb_change_child(): make `parent` (or the root) point at `nw` where it pointed at `old`. */
export function changeChild<T>(s: NodeStore<T>, old: number, nw: number, parent: number): void {
  if (parent === NIL) s.root = nw;
  else if (s.left[parent] === old) s.left[parent] = nw;
  else s.right[parent] = nw;
}

/**
 * __rb_rotate_set_parents(): `nw` takes `old`'s parent and colour, `old`
 * becomes `nw`'s child with `color`, and the parent's link follows.
 */
export function rotateSetParents<T>(s: NodeStore<T>, old: number, nw: number, color: number): void {
  const parent = s.parent[old]!;
  s.parent[nw] = parent;
  s.color[nw] = s.color[old]!;
  s.parent[old] = nw;
  s.color[old] = color;
  changeChild(s, old, nw, parent);
}

/** rb_next(): the in-order successor of `node`, or NIL. */
export function nextSlot<T>(s: NodeStore<T>, node: number): number {
  const { left, right, parent } = s;
  let r = right[node]!;
  if (r !== NIL) {
    while (left[r] !== NIL) r = left[r]!;
    return r;
  }
  let p = parent[node]!;
  while (p !== NIL && node === right[p]) {
    node = p;
    p = parent[p]!;
  }
  return p;
}
