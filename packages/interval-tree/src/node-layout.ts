/*
 * Node layout. A node is 32 bytes of one ArrayBuffer:
 *   bytes  0..7   start         float64 (exact for integers < 2^53)
 *          8..15  last          float64
 *         16..23  subtreeLast   float64, the kernel's ITSUBTREE
 *         24..27  left          int32 slot
 *         28..31  right         int32 slot
 * so that one overlap-walk step (left, subtree max, start, last, right) reads
 * one half cache line. The parent link and the colour, which only climbing
 * and rebalancing need, share one int32 per node as the kernel's
 * __rb_parent_color does (rb-links.ts), in an array that follows the nodes
 * in the same buffer, so that growing the storage allocates once.
 *
 * Each field has its own view, starting at the field's byte offset, so node
 * n's field is `view[n * 4]` in the float64 views and `view[n * 8]` in the
 * int32 ones, and the child on side `s` (0: left, 1: right) is
 * `left[n * 8 + s]`. Code that reads nodes needs no offset constant: V8
 * does not fold an imported constant, so each use cost a module-variable
 * load and a hole check, and enough of them pushed the rebalancing code past
 * the optimizing compiler's inlining budget.
 *
 * Slot numbers stand for the kernel's node pointers, and slot 0 is their
 * NULL: it is never a node, and a missing child, parent or result is 0, so
 * the code tests `if (!tmp)` where lib/rbtree.c does. Slot 0 stays all
 * zeroes (check-invariants.ts verifies it).
 */

/** The slot that is no node (the kernel's NULL). */
export const NIL = 0;
export const NODE_BYTES = 32;

/** Views of one node buffer, one per field (see above). */
export interface NodeViews {
  readonly start: Float64Array;
  readonly last: Float64Array;
  readonly subtreeLast: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** __rb_parent_color (parent << 1 | colour, rb-links.ts), one per slot, after the nodes */
  readonly pc: Int32Array;
}

/** The views of a new, zeroed buffer of `capacity` nodes and their parent words. */
export function nodeViews(capacity: number): NodeViews {
  const nodeBytes = capacity * NODE_BYTES;
  const buffer = new ArrayBuffer(nodeBytes + capacity * 4);
  const floats = capacity * 4;
  const ints = capacity * 8;
  // Each node view ends where the nodes end; the parent words follow.
  return {
    start: new Float64Array(buffer, 0, floats),
    last: new Float64Array(buffer, 8, floats - 1),
    subtreeLast: new Float64Array(buffer, 16, floats - 2),
    left: new Int32Array(buffer, 24, ints - 6),
    right: new Int32Array(buffer, 28, ints - 7),
    pc: new Int32Array(buffer, nodeBytes, capacity),
  };
}
