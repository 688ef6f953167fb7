import type { NodeViews } from './node-layout.js';

/**
 * One interval stored in an {@link IntervalTree}: the closed range
 * `[start, last]` and the caller's value. Mirrors `struct interval_tree_node`
 * (include/linux/interval_tree.h), except that the tree owns the storage and
 * hands out this small handle instead of embedding the node in the caller's
 * structure.
 *
 * **Details**: `start` and `last` never change while the node is in the tree;
 * after `remove()` they keep their values. `value` is free for the caller.
 *
 * @example
 * ```ts
 * const tree = new IntervalTree<string>();
 * const node = tree.insert(0x1000, 0x1fff, 'vma');
 * node.start; // 4096
 * ```
 */
export interface IntervalNode<T> {
  readonly start: number;
  readonly last: number;
  value: T;
}

/**
 * Where a handle reads its bounds, at `start[slot * 4]` and `last[slot * 4]`:
 * the tree's store (node-layout.ts), or once removed a chunk of removed bounds.
 */
type Bounds = Pick<NodeViews, 'start' | 'last'>;

/*
 * The bounds of removed nodes, 128 to a 2 KiB chunk shared by every tree, so
 * that a remove allocates no object of its own (one chunk per 128 removes).
 * Handles read with a 32-byte stride; a chunk packs two removed nodes into
 * each 32 bytes, behind two pairs of views 16 bytes apart. A chunk lives
 * while any of its handles does: keeping one removed node alive keeps 2 KiB,
 * keeping all of them costs 16 B each.
 */
const REMOVED_PER_CHUNK = 128;

class RemovedBounds implements Bounds {
  readonly start: Float64Array;
  readonly last: Float64Array;

  constructor(buffer: ArrayBuffer, offset: number) {
    this.start = new Float64Array(buffer, offset);
    this.last = new Float64Array(buffer, offset + 8);
  }
}

let removedHalves: RemovedBounds[] = [];
let removedUsed = REMOVED_PER_CHUNK;

/** The chunk half and slot for the next removed node's bounds. */
function nextRemoved(): number {
  if (removedUsed === REMOVED_PER_CHUNK) {
    const buffer = new ArrayBuffer(REMOVED_PER_CHUNK * 16);
    removedHalves = [new RemovedBounds(buffer, 0), new RemovedBounds(buffer, 16)];
    removedUsed = 0;
  }
  return removedUsed++;
}

/**
 * The handle behind {@link IntervalNode}: three fields (store, slot, value),
 * the bounds live in the store's buffer, or once removed in a chunk.
 */
export class IntervalHandle<T> implements IntervalNode<T> {
  bounds: Bounds;
  slot: number;
  value: T;

  constructor(bounds: Bounds, slot: number, value: T) {
    this.bounds = bounds;
    this.slot = slot;
    this.value = value;
  }

  get start(): number {
    return this.bounds.start[this.slot * 4]!;
  }

  get last(): number {
    return this.bounds.last[this.slot * 4]!;
  }

  /** Called before the slot is freed: moves the bounds to a chunk of removed ones. */
  detach(): void {
    const entry = nextRemoved();
    const half = removedHalves[entry & 1]!;
    const k = entry >> 1;
    half.start[k * 4] = this.start;
    half.last[k * 4] = this.last;
    this.bounds = half;
    this.slot = k;
  }
}
