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
 * Where a handle reads its bounds: the tree's store (start at f[slot * 4],
 * last at f[slot * 4 + 1], see node-store.ts), or once removed a copy laid
 * out the same way with slot 0.
 */
interface Bounds {
  readonly f: ArrayLike<number>;
}

/** The bounds of a removed node, kept so that its handle stays readable. */
class RemovedBounds implements Bounds {
  readonly f: readonly [number, number];
  constructor(start: number, last: number) {
    this.f = [start, last];
  }
}

/**
 * The handle behind {@link IntervalNode}: three fields (store, slot, value),
 * the bounds live in the store's buffer.
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
    return this.bounds.f[this.slot * 4]!;
  }

  get last(): number {
    return this.bounds.f[this.slot * 4 + 1]!;
  }

  /** Called once the slot is freed: copy the bounds out of the shared arrays. */
  detach(): void {
    this.bounds = new RemovedBounds(this.start, this.last);
    this.slot = 0;
  }
}
