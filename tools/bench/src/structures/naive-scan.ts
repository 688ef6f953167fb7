import type { Workload } from '../workload.js';
import { ScanBaseline } from './scan-baseline.js';

/**
 * The naive baseline: intervals packed in typed arrays, O(1) insert (append)
 * and remove (swap with the last), and a full scan per query.
 */
export class NaiveScan extends ScanBaseline {
  readonly name = 'naive array scan';
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

  override build(w: Workload, from: number, to: number): void {
    if (from === 0) this.allocate(w);
    super.build(w, from, to);
  }

  protected add(w: Workload, id: number): void {
    const at = this.count++;
    this.start[at] = w.start[id]!;
    this.last[at] = w.last[id]!;
    this.id[at] = id;
    this.pos[id] = at;
  }

  protected drop(id: number): void {
    const at = this.pos[id]!;
    const end = --this.count;
    const moved = this.id[end]!;
    this.start[at] = this.start[end]!;
    this.last[at] = this.last[end]!;
    this.id[at] = moved;
    this.pos[moved] = at;
  }

  protected scan(qs: number, ql: number): number {
    const { start, last, count } = this;
    let hits = 0;
    for (let i = 0; i < count; i++) if (start[i]! <= ql && qs <= last[i]!) hits++;
    return hits;
  }

  ids(qs: number, ql: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (this.start[i]! <= ql && qs <= this.last[i]!) out.push(this.id[i]!);
    }
    return out;
  }
}
