import type { IntervalHandle } from './interval-node.js';
import { LEFT, NIL, NODE_BYTES, UNKNOWN } from './node-layout.js';
import { RELAYOUT_MIN_NODES, relayoutPreorder } from './relayout.js';

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

  /** Doubles the storage; a large tree is laid out again in preorder (relayout.ts). */
  private grow(): void {
    const capacity = this.capacity * 2;
    const buffer = new ArrayBuffer(capacity * NODE_BYTES);
    const f = new Float64Array(buffer);
    const i = new Int32Array(buffer);
    const pc = new Int32Array(capacity);
    if (this.capacity >= RELAYOUT_MIN_NODES) relayoutPreorder(this, this.capacity, f, i, pc);
    else {
      new Uint8Array(buffer).set(new Uint8Array(this.f.buffer));
      pc.set(this.pc);
    }
    this.f = f;
    this.i = i;
    this.pc = pc;
    this.capacity = capacity;
  }
}
