import type { IntervalHandle } from './interval-node.js';
import { LAST, LEFT, NIL, RIGHT, START, SUBTREE_LAST } from './node-layout.js';
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
 * Copies the `count` live nodes of `s` (slots 0..count-1, no free slot) into
 * the empty arrays `f`, `i`, `pc` in preorder, then points the store, its
 * handles and its cached slots at the new places. The caller installs the
 * arrays. The insert that caused the growth drops the store's iter_next
 * climb record and bumps its version (so live iterators throw on their next
 * step); only the iterNext cursor is dropped here.
 */
export function relayoutPreorder<T>(
  s: NodeStore<T>,
  count: number,
  f: Float64Array,
  i: Int32Array,
  pc: Int32Array,
): void {
  const newSlot = preorderSlots(s, count);
  const { f: of, i: oi, pc: opc } = s;
  for (let o = 0; o < count; o++) {
    const k = newSlot[o]!;
    f[k * 4 + START] = of[o * 4 + START]!;
    f[k * 4 + LAST] = of[o * 4 + LAST]!;
    f[k * 4 + SUBTREE_LAST] = of[o * 4 + SUBTREE_LAST]!;
    i[k * 8 + LEFT] = moved(newSlot, oi[o * 8 + LEFT]!);
    i[k * 8 + RIGHT] = moved(newSlot, oi[o * 8 + RIGHT]!);
    pc[k] = (moved(newSlot, opc[o]! >> 1) << 1) | (opc[o]! & 1);
  }
  s.handles = movedHandles(s.handles, newSlot, count);
  s.root = moved(newSlot, s.root);
  s.leftmost = moved(newSlot, s.leftmost);
  s.cursor = undefined;
  s.cursorSlot = NIL;
}

/** newSlot[old]: each node's rank in a preorder walk from the root. */
function preorderSlots<T>(s: NodeStore<T>, count: number): Int32Array {
  const newSlot = new Int32Array(count);
  const stack = new Int32Array(MAX_STACK);
  const links = s.i;
  let sp = 0;
  let next = 0;
  if (s.root !== NIL) stack[sp++] = s.root;
  while (sp > 0) {
    const node = stack[--sp]!;
    newSlot[node] = next++;
    const right = links[node * 8 + RIGHT]!;
    const left = links[node * 8 + LEFT]!;
    if (right !== NIL) stack[sp++] = right;
    if (left !== NIL) stack[sp++] = left;
  }
  return newSlot;
}

function moved(newSlot: Int32Array, slot: number): number {
  return slot === NIL ? NIL : newSlot[slot]!;
}

/** Walks the handles in slot order (their allocation order, so mostly in memory order). */
function movedHandles<T>(
  old: (IntervalHandle<T> | undefined)[],
  newSlot: Int32Array,
  count: number,
): (IntervalHandle<T> | undefined)[] {
  const handles: (IntervalHandle<T> | undefined)[] = new Array(count);
  for (let o = 0; o < count; o++) {
    const handle = old[o]!;
    const k = newSlot[o]!;
    handle.slot = k;
    handles[k] = handle;
  }
  return handles;
}
