import type { IntervalHandle } from './interval-node.js';

/** Slot index meaning "no node" (the kernel's NULL rb_node pointer). */
export const NIL = -1;
/** Node colours, with the kernel's values (RB_RED 0, RB_BLACK 1). */
export const RED = 0;
export const BLACK = 1;

const INITIAL_CAPACITY = 16;

/**
 * Structure-of-arrays storage for the nodes of one tree: slot `i` holds one
 * `struct interval_tree_node` (start, last, __subtree_last, the rb links and
 * the colour) and the handle given to the caller. Freed slots are chained
 * through `left` and reused before the arrays grow; the arrays double when
 * full, so the handles keep the store (not the arrays) and always read the
 * current ones. Float64Array holds every integer below 2^53 exactly.
 */
export class NodeStore<T> {
  start: Float64Array;
  last: Float64Array;
  subtreeLast: Float64Array;
  left: Int32Array;
  right: Int32Array;
  parent: Int32Array;
  color: Uint8Array;
  handles: (IntervalHandle<T> | undefined)[] = [];
  /** rb_root_cached.rb_root.rb_node */
  root = NIL;
  /** rb_root_cached.rb_leftmost: the lowest start, for iterFirst's fast reject */
  leftmost = NIL;
  size = 0;
  /** Bumped by every insert, remove and clear so live iterators can notice. */
  version = 0;
  private freeHead = NIL;
  private highWater = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.start = new Float64Array(capacity);
    this.last = new Float64Array(capacity);
    this.subtreeLast = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.color = new Uint8Array(capacity);
  }

  /** Takes a free slot (reusing a freed one first), growing the arrays when full. */
  allocSlot(): number {
    const free = this.freeHead;
    if (free !== NIL) {
      this.freeHead = this.left[free]!;
      return free;
    }
    if (this.highWater === this.start.length) this.grow();
    return this.highWater++;
  }

  /** Returns a slot to the free list; its handle is no longer reachable from the tree. */
  freeSlot(slot: number): void {
    this.handles[slot] = undefined;
    this.left[slot] = this.freeHead;
    this.freeHead = slot;
  }

  private grow(): void {
    const capacity = this.start.length * 2;
    this.start = widen(this.start, new Float64Array(capacity));
    this.last = widen(this.last, new Float64Array(capacity));
    this.subtreeLast = widen(this.subtreeLast, new Float64Array(capacity));
    this.left = widen(this.left, new Int32Array(capacity));
    this.right = widen(this.right, new Int32Array(capacity));
    this.parent = widen(this.parent, new Int32Array(capacity));
    this.color = widen(this.color, new Uint8Array(capacity));
  }
}

function widen<A extends Float64Array | Int32Array | Uint8Array>(from: A, to: A): A {
  to.set(from);
  return to;
}
