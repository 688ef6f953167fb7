import type { Workload } from '../workload.js';
import { ScanBaseline } from './scan-baseline.js';

/** One interval on the list; the caller keeps it to unlink it again. */
class ListNode {
  prev: ListNode | null = null;
  next: ListNode | null = null;
  constructor(
    readonly start: number,
    readonly last: number,
    readonly id: number,
  ) {}
}

/**
 * The textbook naive baseline: a doubly linked list of interval objects,
 * like the hlist of mmu_notifiers that every invalidation walks, each
 * subscriber checking its own range (mmu_interval_notifier's tree replaced
 * it for range subscriptions). O(1) insert at the head, O(1) unlink through
 * the node, a walk of the whole list per query.
 */
export class NaiveList extends ScanBaseline {
  readonly name = 'naive linked-list scan';
  private head: ListNode | null = null;
  private nodes: ListNode[] = [];

  protected add(w: Workload, id: number): void {
    const node = new ListNode(w.start[id]!, w.last[id]!, id);
    node.next = this.head;
    if (this.head !== null) this.head.prev = node;
    this.head = node;
    this.nodes[id] = node;
  }

  protected drop(id: number): void {
    const node = this.nodes[id]!;
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next !== null) node.next.prev = node.prev;
  }

  protected scan(qs: number, ql: number): number {
    let hits = 0;
    for (let n = this.head; n !== null; n = n.next) if (n.start <= ql && qs <= n.last) hits++;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    const out: number[] = [];
    for (let n = this.head; n !== null; n = n.next)
      if (n.start <= ql && qs <= n.last) out.push(n.id);
    return out;
  }
}
