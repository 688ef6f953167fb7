/** Slot index meaning "no node" (the kernel's NULL rb_node pointer). */
export const NIL = -1;
/** A cached ancestor not known (iterate.ts then climbs as the kernel does). */
export const UNKNOWN = -2;
/** Node colours, with the kernel's values (RB_RED 0, RB_BLACK 1). */
export const RED = 0;
export const BLACK = 1;

/*
 * Node layout. A node is 32 bytes of one ArrayBuffer, viewed twice:
 *   f[n*4 + START | LAST | SUBTREE_LAST]   float64 (exact for integers < 2^53)
 *   i[n*8 + LEFT | RIGHT]                  int32, in the node's fourth word
 * so that one overlap-walk step (left, subtree max, start, last, right) reads
 * one half cache line. The parent link and the colour, which only climbing
 * and rebalancing need, share one side int32 as the kernel's
 * __rb_parent_color does: pc[n] = parent << 1 | colour (NIL's -1 shifts
 * back to -1).
 */
export const START = 0;
export const LAST = 1;
export const SUBTREE_LAST = 2;
export const LEFT = 6;
export const RIGHT = 7;
export const NODE_BYTES = 32;
