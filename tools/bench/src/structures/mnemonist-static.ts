import { StaticIntervalTree } from 'mnemonist';
import type { Structure } from '../structure.js';
import type { Workload } from '../workload.js';

type Item = [start: number, last: number, id: number];

/** mnemonist's StaticIntervalTree: built once from all intervals, then only queried. */
export class MnemonistStaticTree implements Structure {
  readonly name = 'mnemonist StaticIntervalTree';
  readonly kind = 'static';
  private tree: StaticIntervalTree<Item> | undefined;

  build(w: Workload, from: number, to: number): void {
    const items: Item[] = new Array(w.n);
    for (let id = from; id < to; id++) items[id] = [w.start[id]!, w.last[id]!, id];
    this.tree = new StaticIntervalTree<Item>(items);
  }

  query(w: Workload, from: number, to: number): number {
    const tree = this.tree!;
    const probe: Item = [0, 0, -1];
    let hits = 0;
    for (let i = from; i < to; i++) {
      probe[0] = w.qStart[i]!;
      probe[1] = w.qLast[i]!;
      hits += tree.intervalsOverlappingInterval(probe).length;
    }
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    return this.tree!.intervalsOverlappingInterval([qs, ql, -1]).map((it) => it[2]);
  }
}
