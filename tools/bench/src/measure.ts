/** Wall-clock and retained-heap helpers. */

import { cpus, loadavg } from 'node:os';

/** The 1, 5 and 15 minute load averages, and the CPU count, for a report line. */
export function loadAverage(): string {
  return `${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (${cpus().length} CPUs)`;
}

export interface Rate {
  /** Operations per second. */
  readonly opsPerSec: number;
  readonly done: number;
  readonly planned: number;
}

export const capped = (r: Rate): boolean => r.done < r.planned;

const gcFn = (globalThis as { gc?: () => void }).gc;

export const canMeasureHeap = gcFn !== undefined;

let clock: 'wall' | 'cpu' = 'wall';

/**
 * 'wall': performance.now(). 'cpu': this process's user + system CPU time
 * (all its threads, GC helpers included), which other load on the machine
 * inflates far less than wall time.
 */
export function setClock(kind: 'wall' | 'cpu'): void {
  clock = kind;
}

/** Milliseconds on the selected clock. */
export function now(): number {
  if (clock === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Heap plus ArrayBuffer backing stores, after a full collection. */
export function retainedBytes(): number {
  // Each collection also finishes the ArrayBuffer sweeping the previous one
  // started in the background, so that `arrayBuffers` is up to date.
  for (let i = 0; i < 4; i++) gcFn?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let stat: 'median' | 'total' = 'median';

/**
 * How a chunked phase becomes one rate. 'total': operations / total time.
 * 'median': the median of the per-chunk rates, which shrugs off the time a
 * loaded machine takes the CPU away mid-phase (and also most GC pauses, for
 * every contender alike).
 */
export function setStat(kind: 'median' | 'total'): void {
  stat = kind;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Collects per-chunk rates over one or more runs of a phase (several
 * build/teardown rounds of a small tree count as one phase).
 */
export class ChunkTimer {
  private readonly rates: number[] = [];
  private done = 0;
  private planned = 0;
  private elapsed = 0;

  /**
   * Runs `step(from, to)` over [0, total) in chunks until done or until
   * `budgetMs` has passed; `onChunk` sees this run's running result after
   * each chunk.
   */
  run(
    total: number,
    chunk: number,
    budgetMs: number,
    step: (from: number, to: number) => unknown,
    onChunk: (done: number, sum: number) => void,
  ): void {
    const t0 = now();
    let done = 0;
    let sum = 0;
    let elapsed = 0;
    while (done < total && elapsed < budgetMs) {
      const to = Math.min(total, done + chunk);
      const c0 = now();
      const hits = step(done, to);
      if (typeof hits === 'number') sum += hits;
      const ms = now() - c0;
      this.rates.push((to - done) / (Math.max(ms, 1e-3) / 1000));
      done = to;
      elapsed = now() - t0;
      onChunk(done, sum);
    }
    this.done += done;
    this.planned += total;
    this.elapsed += elapsed;
  }

  /** The phase's rate over every run so far, as `setStat` chose. */
  rate(): Rate {
    const { done, planned } = this;
    const opsPerSec = stat === 'median' ? median(this.rates) : done / (this.elapsed / 1000);
    return { opsPerSec, done, planned };
  }
}

/** One chunked run of a phase; see {@link ChunkTimer.run}. */
export function timeChunked(
  total: number,
  chunk: number,
  budgetMs: number,
  step: (from: number, to: number) => unknown,
  onChunk: (done: number, sum: number) => void,
): Rate {
  const timer = new ChunkTimer();
  timer.run(total, chunk, budgetMs, step, onChunk);
  return timer.rate();
}
