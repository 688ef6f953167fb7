/*
 * IntervalTree: the Linux kernel's augmented red-black interval tree
 * (include/linux/interval_tree_generic.h over include/linux/rbtree_augmented.h
 * and lib/rbtree.c), over closed intervals [start, last].
 *
 * Invariants (checked by check-invariants.ts after every step in the tests):
 *  - Order: in-order traversal is by ascending `start`; an insert with an
 *    equal start descends right, so equal starts stay in insertion order.
 *  - Red-black rules: the root is black; a red node has no red child; every
 *    path from a node down to a missing child crosses the same number of
 *    black nodes. Height is therefore at most 2*log2(n + 1).
 *  - Augmentation: subtreeLast[n] = max(last[n], subtreeLast[left(n)],
 *    subtreeLast[right(n)]), the kernel's __subtree_last, maintained by the
 *    rotate / copy / propagate callbacks of RB_DECLARE_CALLBACKS().
 *  - Closed intervals: [a0, a1] and [b0, b1] overlap iff a0 <= b1 && b0 <= a1;
 *    [x, x] is a valid one-point interval.
 *  - Cache: `leftmost` is the first node in order (rb_root_cached), so that
 *    iterFirst rejects queries ending before every start in O(1).
 *
 * Nodes live in typed arrays (node-store.ts, laid out as node-layout.ts says);
 * the caller holds a small handle.
 */
import { checkInterval, checkMember } from './check-args.js';
import { IntervalHandle, type IntervalNode } from './interval-node.js';
import { iterFirstSlot, iterNextSlot } from './iterate.js';
import { InOrderIterator, OverlapIterator } from './iterators.js';
import { NodeStore } from './node-store.js';
import { eraseSlot } from './rb-erase.js';
import { insertSlot } from './rb-insert.js';

/** Reaches a tree's store; for check-invariants.ts, not exported from the package. */
export let storeOf: <T>(tree: IntervalTree<T>) => NodeStore<T>;

/**
 * An interval tree over closed integer intervals `[start, last]`, holding a
 * value per interval; duplicates allowed. Mirrors the kernel's
 * `INTERVAL_TREE_DEFINE()` instance `interval_tree_*` (lib/interval_tree.c)
 * with an `rb_root_cached` root.
 *
 * **Details**: bounds are integers in `[0, Number.MAX_SAFE_INTEGER]`. Nodes are
 * stored in typed arrays; queries allocate nothing.
 *
 * **Context**: synchronous and never sleeps. Like the kernel's tree it has no
 * lock of its own: the owner serialises writers against readers (the
 * mmu_interval_notifier code holds its subscriptions lock).
 *
 * @example
 * ```ts
 * const tree = new IntervalTree<string>();
 * tree.insert(0x1000, 0x2fff, 'a');
 * tree.insert(0x2000, 0x2fff, 'b');
 * [...tree.overlapping(0x2800, 0x2800)].map((n) => n.value); // ['a', 'b']
 * ```
 */
export class IntervalTree<T> implements Iterable<IntervalNode<T>> {
  #s: NodeStore<T> = new NodeStore<T>();

  static {
    storeOf = <U>(tree: IntervalTree<U>): NodeStore<U> => tree.#s;
  }

  /**
   * The number of intervals in the tree. O(1). The kernel's tree keeps no
   * count (its users do, e.g. by walking with `rb_first_cached()`/`rb_next()`).
   *
   * @example
   * ```ts
   * new IntervalTree<number>().size; // 0
   * ```
   */
  get size(): number {
    return this.#s.size;
  }

  /**
   * Inserts the closed interval `[start, last]` with `value` and returns its
   * node. Mirrors `interval_tree_insert()`. O(log n).
   *
   * **Details**: an interval equal to one already present is added again, after
   * it in iteration order.
   *
   * @throws RangeError if `start` or `last` is not an integer in
   * `[0, Number.MAX_SAFE_INTEGER]`, or `start > last`.
   * @example
   * ```ts
   * const node = new IntervalTree<string>().insert(4096, 8191, 'page 1');
   * ```
   */
  insert(start: number, last: number, value: T): IntervalNode<T> {
    checkInterval(start, last);
    const s = this.#s;
    const slot = s.allocSlot();
    s.start[slot * 4] = start;
    s.last[slot * 4] = last;
    const node = new IntervalHandle<T>(s, slot, value);
    s.handles[slot] = node;
    insertSlot(s, slot);
    s.size++;
    s.version++;
    return node;
  }

  /**
   * Removes `node` from the tree. Mirrors `interval_tree_remove()`. O(log n).
   *
   * **Details**: the node keeps its `start`, `last` and `value` afterwards.
   *
   * @throws RangeError if `node` is not in this tree (already removed, from
   * another tree, or not a node).
   * @example
   * ```ts
   * const tree = new IntervalTree<null>();
   * tree.remove(tree.insert(0, 9, null));
   * ```
   */
  remove(node: IntervalNode<T>): void {
    const s = this.#s;
    checkMember(s, node);
    const slot = node.slot;
    s.cursor = undefined;
    eraseSlot(s, slot);
    node.detach();
    s.freeSlot(slot);
    s.size--;
    s.version++;
  }

  /**
   * The overlapping node with the lowest start (equal starts: the first
   * inserted), or `undefined`. Mirrors `interval_tree_iter_first()`, including
   * its O(1) rejects on the root's subtree max and the leftmost start.
   * O(log n); allocates nothing.
   *
   * @throws RangeError on a bad bound or `start > last`.
   * @example
   * ```ts
   * const tree = new IntervalTree<string>();
   * tree.insert(10, 20, 'x');
   * tree.iterFirst(20, 30)?.value; // 'x' (closed intervals touch at 20)
   * ```
   */
  iterFirst(start: number, last: number): IntervalNode<T> | undefined {
    checkInterval(start, last);
    const s = this.#s;
    return found(s, iterFirstSlot(s, start, last));
  }

  /**
   * The next node after `node` overlapping `[start, last]`, in ascending
   * start, or `undefined`. Mirrors `interval_tree_iter_next()`. O(log n) per
   * step (amortised O(1 + log n / k) over k results); allocates nothing.
   *
   * **Gotchas**: pass the same `[start, last]` as the `iterFirst` call; do not
   * remove `node` before asking for its successor.
   *
   * @throws RangeError if `node` is not in this tree, on a bad bound, or
   * `start > last`.
   * @example
   * ```ts
   * const tree = new IntervalTree<number>();
   * tree.insert(0, 5, 1);
   * tree.insert(3, 9, 2);
   * let hits = 0;
   * for (let n = tree.iterFirst(4, 4); n; n = tree.iterNext(n, 4, 4)) hits++;
   * // hits === 2
   * ```
   */
  iterNext(node: IntervalNode<T>, start: number, last: number): IntervalNode<T> | undefined {
    const s = this.#s;
    let slot = s.cursorSlot;
    if (node !== s.cursor) {
      checkMember(s, node);
      slot = node.slot;
    }
    checkInterval(start, last);
    return found(s, iterNextSlot(s, slot, start, last));
  }

  /**
   * Iterates the nodes overlapping `[start, last]` in ascending start, equal
   * starts in insertion order. Mirrors the kernel's
   * `for (n = interval_tree_iter_first(); n; n = interval_tree_iter_next())`
   * loop. O(log n) to start, then O(log n) per result at worst; one object
   * allocated per call.
   *
   * **Gotchas**: the iterator is its own IteratorResult (it returns itself from
   * `next()`); inserting or removing while iterating makes the next step throw.
   *
   * @throws RangeError on a bad bound or `start > last`.
   * @example
   * ```ts
   * const tree = new IntervalTree<string>();
   * tree.insert(0, 4095, 'page 0');
   * tree.insert(4096, 8191, 'page 1');
   * for (const n of tree.overlapping(4000, 5000)) console.log(n.value);
   * ```
   */
  overlapping(start: number, last: number): IterableIterator<IntervalNode<T>> {
    checkInterval(start, last);
    return new OverlapIterator(this.#s, start, last);
  }

  /**
   * Iterates every node in ascending start, equal starts in insertion order.
   * Mirrors walking the tree with `rb_first_cached()` / `rb_next()`. O(n).
   *
   * @example
   * ```ts
   * const tree = new IntervalTree<string>();
   * tree.insert(5, 6, 'b');
   * tree.insert(1, 2, 'a');
   * [...tree].map((n) => n.value); // ['a', 'b']
   * ```
   */
  [Symbol.iterator](): IterableIterator<IntervalNode<T>> {
    return new InOrderIterator(this.#s);
  }

  /**
   * Removes every node. O(1): the tree starts over on fresh storage (the
   * kernel has no equivalent; its users remove nodes one by one).
   *
   * **Details**: removed nodes keep their `start`, `last` and `value`, and
   * removing one of them afterwards throws.
   *
   * @example
   * ```ts
   * const tree = new IntervalTree<number>();
   * tree.insert(1, 2, 3);
   * tree.clear();
   * tree.size; // 0
   * ```
   */
  clear(): void {
    const old = this.#s;
    old.version++;
    old.handles = [];
    this.#s = new NodeStore<T>();
  }

  /**
   * One tree with a live node, a removed node and both iterators, kept for
   * the life of the module. V8 reaches the hidden classes that class fields
   * add only through weak transitions: once every tree is garbage, a full GC
   * frees them and deoptimises every function compiled against them, and the
   * next thousand inserts ran about ten times slower in the benchmark. These
   * instances keep those classes, and the field types they settle on, alive.
   */
  static readonly #classAnchor: unknown[] = [];

  static {
    const tree = new IntervalTree<unknown>();
    const live = tree.insert(0, 0, undefined);
    const removed = tree.insert(0, 0, 0);
    tree.remove(removed);
    const iterators = [tree.overlapping(0, 0), tree[Symbol.iterator]()];
    IntervalTree.#classAnchor.push(tree, live, removed, ...iterators);
  }
}

/** The handle of `slot` (undefined for NIL), remembered as the iteration cursor. */
function found<T>(s: NodeStore<T>, slot: number): IntervalNode<T> | undefined {
  if (!slot) return undefined;
  const handle = s.handles[slot];
  s.cursor = handle;
  s.cursorSlot = slot;
  return handle;
}
