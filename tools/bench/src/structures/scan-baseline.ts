import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

/**
 * The phases both naive scans share: each one only says how it adds, drops
 * and scans. Baselines, so the virtual calls cost them a little; no peer
 * goes through here.
 */
export abstract class ScanBaseline implements Structure {
  abstract readonly name: string;
  readonly kind = 'baseline';
  protected abstract add(w: Workload, id: number): void;
  protected abstract drop(id: number): void;
  protected abstract scan(qs: number, ql: number): number;
  abstract ids(qs: number, ql: number): number[];

  build(w: Workload, from: number, to: number): void {
    for (let id = from; id < to; id++) this.add(w, id);
  }

  query(w: Workload, from: number, to: number): number {
    let hits = 0;
    for (let i = from; i < to; i++) hits += this.scan(w.qStart[i]!, w.qLast[i]!);
    return hits;
  }

  remove(w: Workload, from: number, to: number): void {
    const order = w.removeOrder;
    for (let i = from; i < to; i++) this.drop(order[i]!);
  }

  mixed(w: Workload, from: number, to: number): number {
    let hits = 0;
    for (let i = from; i < to; i++) {
      const kind = w.mixKind[i];
      if (kind === MIX_QUERY) hits += this.scan(w.mixQs[i]!, w.mixQl[i]!);
      else if (kind === MIX_INSERT) this.add(w, w.mixId[i]!);
      else this.drop(w.mixId[i]!);
    }
    return hits;
  }
}
