import type { IntervalNode } from './interval-node.js';
import { iterFirstSlot, iterNextSlot } from './iterate.js';
import type { NodeStore } from './node-store.js';
import { nextSlot } from './rb-links.js';

/*
 * The iterators are their own IteratorResult: next() updates `value`/`done`
 * and returns `this`, so a whole loop allocates one object. A caller that
 * keeps a result object across next() calls sees it change; `for...of` and
 * spreading never do. Changing the tree while iterating throws (the kernel
 * leaves that undefined).
 */

abstract class SlotIterator<T> implements IterableIterator<IntervalNode<T>> {
  value: IntervalNode<T> | undefined = undefined;
  done = false;
  protected slot: number;
  private readonly store: NodeStore<T>;
  private readonly version: number;

  constructor(store: NodeStore<T>, first: number) {
    this.store = store;
    this.version = store.version;
    this.slot = first;
  }

  next(): IteratorResult<IntervalNode<T>> {
    const s = this.store;
    if (s.version !== this.version) {
      throw new Error('IntervalTree was modified during iteration');
    }
    const slot = this.slot;
    if (!slot) {
      this.value = undefined;
      this.done = true;
    } else {
      this.value = s.handles[slot];
      this.slot = this.advance(s, slot);
    }
    return this as IteratorResult<IntervalNode<T>>;
  }

  [Symbol.iterator](): this {
    return this;
  }

  protected abstract advance(s: NodeStore<T>, slot: number): number;
}

/** Walks iter_first/iter_next over [start, last]. */
export class OverlapIterator<T> extends SlotIterator<T> {
  private readonly qs: number;
  private readonly ql: number;

  constructor(store: NodeStore<T>, qs: number, ql: number) {
    super(store, iterFirstSlot(store, qs, ql));
    this.qs = qs;
    this.ql = ql;
  }

  protected advance(s: NodeStore<T>, slot: number): number {
    return iterNextSlot(s, slot, this.qs, this.ql);
  }
}

/** Walks rb_first/rb_next: every node in ascending start, equal starts in insertion order. */
export class InOrderIterator<T> extends SlotIterator<T> {
  constructor(store: NodeStore<T>) {
    super(store, store.leftmost);
  }

  protected advance(s: NodeStore<T>, slot: number): number {
    return nextSlot(s, slot);
  }
}
