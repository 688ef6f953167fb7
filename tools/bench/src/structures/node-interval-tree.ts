import { IntervalTree } from 'node-interval-tree';
import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

interface Rec {
  readonly low: number;
  readonly high: number;
  readonly id: number;
}

/** node-interval-tree: AVL tree of records {low, high}; removal by record. */
export class NodeIntervalTree implements Structure {
  readonly name = 'node-interval-tree';
  readonly kind = 'dynamic';
  private tree = new IntervalTree<Rec>();
  private recs: Rec[] = [];

  build(w: Workload, from: number, to: number): void {
    for (let id = from; id < to; id++) this.add(w, id);
  }

  private add(w: Workload, id: number): void {
    const rec = { low: w.start[id]!, high: w.last[id]!, id };
    this.recs[id] = rec;
    this.tree.insert(rec);
  }

  query(w: Workload, from: number, to: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let i = from; i < to; i++) hits += tree.search(w.qStart[i]!, w.qLast[i]!).length;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    return this.tree.search(qs, ql).map((r) => r.id);
  }

  remove(w: Workload, from: number, to: number): void {
    const order = w.removeOrder;
    for (let i = from; i < to; i++) this.tree.remove(this.recs[order[i]!]!);
  }

  mixed(w: Workload, from: number, to: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let i = from; i < to; i++) {
      const kind = w.mixKind[i];
      const id = w.mixId[i]!;
      if (kind === MIX_QUERY) hits += tree.search(w.mixQs[i]!, w.mixQl[i]!).length;
      else if (kind === MIX_INSERT) this.add(w, id);
      else tree.remove(this.recs[id]!);
    }
    return hits;
  }
}
