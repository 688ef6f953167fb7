import type { IntervalHandle } from './interval-node.js';
import { NIL, type NodeViews, nodeViews } from './node-layout.js';
import { RELAYOUT_MIN_NODES, relayoutPreorder } from './relayout.js';

const INITIAL_CAPACITY = 16;

/**
 * The storage of one tree: slot `n` holds one `struct interval_tree_node`
 * and the handle given to the caller; slot 0 is NIL and holds neither.
 * Freed slots are chained through their left link and reused before the
 * buffer grows; it doubles when full, so handles keep the store (not the
 * arrays) and always read the current ones.
 */
export class NodeStore<T> implements NodeViews {
  // Set by install(), from the constructor and on every growth.
  start!: Float64Array;
  last!: Float64Array;
  subtreeLast!: Float64Array;
  left!: Int32Array;
  right!: Int32Array;
  pc!: Int32Array;
  /** NIL's entry is there from the start, so that filling slots from 1 up leaves no hole. */
  handles: (IntervalHandle<T> | undefined)[] = [undefined];
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
  nextAncestor = NIL;
  private freeHead = NIL;
  private highWater = 1;
  private capacity: number;

  constructor(capacity = INITIAL_CAPACITY) {
    this.capacity = capacity;
    this.install(nodeViews(capacity));
  }

  /** Takes a free slot (reusing a freed one first), growing the storage when full. */
  allocSlot(): number {
    const free = this.freeHead;
    if (free) {
      this.freeHead = this.left[free * 8]!;
      return free;
    }
    if (this.highWater === this.capacity) this.grow();
    return this.highWater++;
  }

  /** Returns a slot to the free list; its handle is no longer reachable from the tree. */
  freeSlot(slot: number): void {
    this.handles[slot] = undefined;
    this.left[slot * 8] = this.freeHead;
    this.freeHead = slot;
  }

  /** Doubles the storage; a large tree is laid out again in preorder (relayout.ts). */
  private grow(): void {
    const capacity = this.capacity * 2;
    const views = nodeViews(capacity);
    if (this.capacity >= RELAYOUT_MIN_NODES) relayoutPreorder(this, this.capacity, views);
    else {
      // Same element type, so a byte-exact copy of every node, links included.
      views.start.set(this.start);
      views.pc.set(this.pc);
    }
    this.install(views);
    this.capacity = capacity;
  }

  private install(views: NodeViews): void {
    this.start = views.start;
    this.last = views.last;
    this.subtreeLast = views.subtreeLast;
    this.left = views.left;
    this.right = views.right;
    this.pc = views.pc;
  }
}
