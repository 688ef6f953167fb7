import FlattenIntervalTree from '@flatten-js/interval-tree';
import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

/** @flatten-js/interval-tree: red-black tree keyed by [low, high]; the value is the id. */
export class FlattenTree implements Structure {
  readonly name = '@flatten-js/interval-tree';
  readonly kind = 'dynamic';
  private tree = new FlattenIntervalTree<number>();

  build(w: Workload, from: number, to: number): void {
    const tree = this.tree;
    for (let id = from; id < to; id++) tree.insert([w.start[id]!, w.last[id]!], id);
  }

  query(w: Workload, from: number, to: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let i = from; i < to; i++) hits += tree.search([w.qStart[i]!, w.qLast[i]!]).length;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    return this.tree.search([qs, ql]);
  }

  remove(w: Workload, from: number, to: number): void {
    const tree = this.tree;
    const order = w.removeOrder;
    for (let i = from; i < to; i++) {
      const id = order[i]!;
      tree.remove([w.start[id]!, w.last[id]!], id);
    }
  }

  mixed(w: Workload, from: number, to: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let i = from; i < to; i++) {
      const kind = w.mixKind[i];
      const id = w.mixId[i]!;
      if (kind === MIX_QUERY) hits += tree.search([w.mixQs[i]!, w.mixQl[i]!]).length;
      else if (kind === MIX_INSERT) tree.insert([w.start[id]!, w.last[id]!], id);
      else tree.remove([w.start[id]!, w.last[id]!], id);
    }
    return hits;
  }
}
