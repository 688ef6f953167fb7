import type { Structure } from '../structure.js';
import { MIX_INSERT, MIX_QUERY, type Workload } from '../workload.js';

/**
 * The naive baseline: intervals packed in typed arrays, O(1) insert (append)
 * and remove (swap with the last), and a full scan per query.
 */
export class NaiveScan implements Structure {
  readonly name = 'naive array scan';
  readonly kind = 'baseline';
  private start = new Float64Array(0);
  private last = new Float64Array(0);
  private id = new Int32Array(0);
  private pos = new Int32Array(0);
  private count = 0;

  /** Room for every id the workload uses, so that inserts never grow an array. */
  private allocate(w: Workload): void {
    const capacity = w.start.length;
    this.start = new Float64Array(capacity);
    this.last = new Float64Array(capacity);
    this.id = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  build(w: Workload, from: number, to: number): void {
    if (from === 0) this.allocate(w);
    for (let id = from; id < to; id++) this.add(w, id);
  }

  private add(w: Workload, id: number): void {
    const at = this.count++;
    this.start[at] = w.start[id]!;
    this.last[at] = w.last[id]!;
    this.id[at] = id;
    this.pos[id] = at;
  }

  private drop(id: number): void {
    const at = this.pos[id]!;
    const end = --this.count;
    const moved = this.id[end]!;
    this.start[at] = this.start[end]!;
    this.last[at] = this.last[end]!;
    this.id[at] = moved;
    this.pos[moved] = at;
  }

  private scan(qs: number, ql: number): number {
    const { start, last, count } = this;
    let hits = 0;
    for (let i = 0; i < count; i++) if (start[i]! <= ql && qs <= last[i]!) hits++;
    return hits;
  }

  query(w: Workload, from: number, to: number): number {
    let hits = 0;
    for (let i = from; i < to; i++) hits += this.scan(w.qStart[i]!, w.qLast[i]!);
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (this.start[i]! <= ql && qs <= this.last[i]!) out.push(this.id[i]!);
    }
    return out;
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
