import type { IntervalHandle } from './interval-node.js';

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
const NODE_BYTES = 32;

const INITIAL_CAPACITY = 16;

/**
 * The storage of one tree: slot `n` holds one `struct interval_tree_node`
 * and the handle given to the caller. Freed slots are chained through LEFT
 * and reused before the buffer grows; it doubles when full, so handles keep
 * the store (not the arrays) and always read the current ones.
 */
export class NodeStore<T> {
  f: Float64Array;
  i: Int32Array;
  pc: Int32Array;
  handles: (IntervalHandle<T> | undefined)[] = [];
  /** rb_root_cached.rb_root.rb_node */
  root = NIL;
  /** rb_root_cached.rb_leftmost: the lowest start, for iterFirst's fast reject */
  leftmost = NIL;
  size = 0;
  /** Bumped by every insert, remove and clear so live iterators can notice. */
  version = 0;
  /**
   * The node last returned by iterFirst/iterNext and its slot, so that the
   * usual `iterNext(node)` loop finds the slot without loading the handle
   * (a cache miss per step on large trees). Cleared by every remove.
   */
  cursor: IntervalHandle<T> | undefined = undefined;
  cursorSlot = NIL;
  /**
   * `nextAncestor` is where iter_next's climb from `nextAncestorOf` would
   * stop: its nearest ancestor holding it in its left subtree (NIL: none).
   * The overlap walk learns it on the way down, which saves the climb (one
   * cache miss per level on a large tree) at the end of most queries. It
   * depends on the shape alone, so every insert and remove drops it.
   */
  nextAncestorOf = NIL;
  nextAncestor = UNKNOWN;
  private freeHead = NIL;
  private highWater = 0;
  private capacity: number;

  constructor(capacity = INITIAL_CAPACITY) {
    this.capacity = capacity;
    const buffer = new ArrayBuffer(capacity * NODE_BYTES);
    this.f = new Float64Array(buffer);
    this.i = new Int32Array(buffer);
    this.pc = new Int32Array(capacity);
  }

  /** Takes a free slot (reusing a freed one first), growing the storage when full. */
  allocSlot(): number {
    const free = this.freeHead;
    if (free !== NIL) {
      this.freeHead = this.i[free * 8 + LEFT]!;
      return free;
    }
    if (this.highWater === this.capacity) this.grow();
    return this.highWater++;
  }

  /** Returns a slot to the free list; its handle is no longer reachable from the tree. */
  freeSlot(slot: number): void {
    this.handles[slot] = undefined;
    this.i[slot * 8 + LEFT] = this.freeHead;
    this.freeHead = slot;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const buffer = new ArrayBuffer(capacity * NODE_BYTES);
    new Uint8Array(buffer).set(new Uint8Array(this.f.buffer));
    this.f = new Float64Array(buffer);
    this.i = new Int32Array(buffer);
    const pc = new Int32Array(capacity);
    pc.set(this.pc);
    this.pc = pc;
    this.capacity = capacity;
  }
}
