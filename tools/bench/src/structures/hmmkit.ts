import { type IntervalNode, IntervalTree } from '@hmmkit/interval-tree';
import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

/** @hmmkit/interval-tree, queried through iterFirst/iterNext as the kernel's users do. */
export class HmmkitTree implements Structure {
  readonly name = '@hmmkit/interval-tree';
  readonly kind = 'dynamic';
  private tree = new IntervalTree<number>();
  private nodes: IntervalNode<number>[] = [];

  build(w: Workload, from: number, to: number): void {
    const { tree, nodes } = this;
    for (let id = from; id < to; id++) nodes[id] = tree.insert(w.start[id]!, w.last[id]!, id);
  }

  query(w: Workload, from: number, to: number): number {
    let hits = 0;
    for (let i = from; i < to; i++) hits += this.count(w.qStart[i]!, w.qLast[i]!);
    return hits;
  }

  private count(qs: number, ql: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let n = tree.iterFirst(qs, ql); n !== undefined; n = tree.iterNext(n, qs, ql)) hits++;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    return Array.from(this.tree.overlapping(qs, ql), (n) => n.value);
  }

  remove(w: Workload, from: number, to: number): void {
    const { tree, nodes } = this;
    const order = w.removeOrder;
    for (let i = from; i < to; i++) tree.remove(nodes[order[i]!]!);
  }

  mixed(w: Workload, from: number, to: number): number {
    const { tree, nodes } = this;
    let hits = 0;
    for (let i = from; i < to; i++) {
      const kind = w.mixKind[i];
      const id = w.mixId[i]!;
      if (kind === MIX_QUERY) hits += this.count(w.mixQs[i]!, w.mixQl[i]!);
      else if (kind === MIX_INSERT) nodes[id] = tree.insert(w.start[id]!, w.last[id]!, id);
      else tree.remove(nodes[id]!);
    }
    return hits;
  }
}
