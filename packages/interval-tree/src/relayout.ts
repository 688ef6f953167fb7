import type { IntervalHandle } from './interval-node.js';
import { NIL, type NodeViews } from './node-layout.js';
import type { NodeStore } from './node-store.js';

/*
 * When a large tree's storage doubles, its nodes are copied in tree
 * preorder instead of slot order. Slots are handed out in insertion order, so
 * after random inserts a descent jumps across the whole buffer and, past a
 * few MiB, every level below the cached top of the tree is a cache and TLB
 * miss. In preorder a node's left child is the next slot and a small
 * subtree is one contiguous run, so the bottom levels of a descent share
 * cache lines and pages. Nodes inserted later go to the new half in
 * insertion order, until the next doubling lays everything out again.
 *
 * The cost is one pass over the nodes and their handles per doubling, O(n),
 * the same order as the copy it replaces. Below RELAYOUT_MIN_NODES the whole
 * tree stays in cache and a plain copy is cheaper.
 */
export const RELAYOUT_MIN_NODES = 1 << 15;

/** Deeper than any red-black tree of 2^31 nodes (height <= 2 log2(n + 1)). */
const MAX_STACK = 128;

/**
 * Copies the nodes in slots 1..count-1 of `s` (every slot is live when the
 * storage is full) into the empty views `to` in preorder, then points the
 * store's handles and cached slots at the new places. The caller installs
 * the views. The insert that caused the growth drops the store's iter_next
 * climb record and bumps its version (so live iterators throw on their next
 * step); only the iterNext cursor is dropped here.
 */
export function relayoutPreorder<T>(s: NodeStore<T>, count: number, to: NodeViews): void {
  // newSlot[0] stays 0: NIL moves to NIL.
  const newSlot = preorderSlots(s, count);
  for (let o = 1; o < count; o++) {
    const k = newSlot[o]!;
    to.start[k * 4] = s.start[o * 4]!;
    to.last[k * 4] = s.last[o * 4]!;
    to.subtreeLast[k * 4] = s.subtreeLast[o * 4]!;
    to.left[k * 8] = newSlot[s.left[o * 8]!]!;
    to.right[k * 8] = newSlot[s.right[o * 8]!]!;
    const parentColor = s.pc[o]!;
    to.pc[k] = (newSlot[parentColor >> 1]! << 1) | (parentColor & 1);
  }
  s.handles = movedHandles(s.handles, newSlot, count);
  s.root = newSlot[s.root]!;
  s.leftmost = newSlot[s.leftmost]!;
  s.cursor = undefined;
  s.cursorSlot = NIL;
}

/** newSlot[old]: each node's rank (from 1) in a preorder walk from the root. */
function preorderSlots<T>(s: NodeStore<T>, count: number): Int32Array {
  const newSlot = new Int32Array(count);
  const stack = new Int32Array(MAX_STACK);
  const { left, right } = s;
  let sp = 0;
  let next = 1;
  if (s.root) stack[sp++] = s.root;
  while (sp > 0) {
    const node = stack[--sp]!;
    newSlot[node] = next++;
    const r = right[node * 8]!;
    const l = left[node * 8]!;
    if (r) stack[sp++] = r;
    if (l) stack[sp++] = l;
  }
  return newSlot;
}

/** Walks the handles in slot order (their allocation order, so mostly in memory order). */
function movedHandles<T>(
  old: (IntervalHandle<T> | undefined)[],
  newSlot: Int32Array,
  count: number,
): (IntervalHandle<T> | undefined)[] {
  const handles: (IntervalHandle<T> | undefined)[] = new Array(count);
  handles[0] = undefined;
  for (let o = 1; o < count; o++) {
    const handle = old[o]!;
    const k = newSlot[o]!;
    handle.slot = k;
    handles[k] = handle;
  }
  return handles;
}
