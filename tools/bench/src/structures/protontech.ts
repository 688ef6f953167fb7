import * as proton from '@protontech/interval-tree';
import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

// The package ships ES module syntax without "type": "module"; depending on
// the loader the default export arrives wrapped once more.
type Create = typeof proton.default;
const loaded = proton as unknown as { default: Create | { default: Create } };
const createIntervalTree =
  typeof loaded.default === 'function' ? loaded.default : loaded.default.default;

/** @protontech/interval-tree: red-black tree keyed by low, ids are strings. */
export class ProtontechTree implements Structure {
  readonly name = '@protontech/interval-tree';
  readonly kind = 'dynamic';
  private tree = createIntervalTree();
  private names: string[] = [];

  /** The string ids the library needs; made before timing, as the caller's own data. */
  prepare(w: Workload): void {
    const count = w.start.length;
    for (let id = 0; id < count; id++) this.names[id] = String(id);
  }

  build(w: Workload, from: number, to: number): void {
    const { tree, names } = this;
    for (let id = from; id < to; id++) tree.insert(w.start[id]!, w.last[id]!, names[id]!);
  }

  query(w: Workload, from: number, to: number): number {
    const tree = this.tree;
    let hits = 0;
    for (let i = from; i < to; i++) hits += tree.search(w.qStart[i]!, w.qLast[i]!).length;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    return this.tree.search(qs, ql).map((r) => Number(r[2]));
  }

  remove(w: Workload, from: number, to: number): void {
    const { tree, names } = this;
    const order = w.removeOrder;
    for (let i = from; i < to; i++) {
      const id = order[i]!;
      tree.remove(w.start[id]!, w.last[id]!, names[id]!);
    }
  }

  mixed(w: Workload, from: number, to: number): number {
    const { tree, names } = this;
    let hits = 0;
    for (let i = from; i < to; i++) {
      const kind = w.mixKind[i];
      const id = w.mixId[i]!;
      if (kind === MIX_QUERY) hits += tree.search(w.mixQs[i]!, w.mixQl[i]!).length;
      else if (kind === MIX_INSERT) tree.insert(w.start[id]!, w.last[id]!, names[id]!);
      else tree.remove(w.start[id]!, w.last[id]!, names[id]!);
    }
    return hits;
  }
}
