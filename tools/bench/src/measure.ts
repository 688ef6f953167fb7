/** Wall-clock and retained-heap helpers. */

export interface Rate {
  /** Operations per second. */
  readonly opsPerSec: number;
  readonly done: number;
  readonly planned: number;
}

export const capped = (r: Rate): boolean => r.done < r.planned;

const gcFn = (globalThis as { gc?: () => void }).gc;

export const canMeasureHeap = gcFn !== undefined;

export function now(): number {
  return performance.now();
}

/** Heap plus ArrayBuffer backing stores, after a full collection. */
export function retainedBytes(): number {
  gcFn?.();
  gcFn?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Times one call doing `ops` operations. */
export function timeOnce(ops: number, fn: () => void): Rate {
  const t0 = now();
  fn();
  const ms = now() - t0;
  return { opsPerSec: ops / (ms / 1000), done: ops, planned: ops };
}

/**
 * Runs `step(from, to)` over [0, total) in chunks until done or until
 * `budgetMs` has passed; `onChunk` sees the running result after each chunk.
 */
export function timeChunked(
  total: number,
  chunk: number,
  budgetMs: number,
  step: (from: number, to: number) => number,
  onChunk: (done: number, sum: number) => void,
): Rate {
  const t0 = now();
  let done = 0;
  let sum = 0;
  let elapsed = 0;
  while (done < total && elapsed < budgetMs) {
    const to = Math.min(total, done + chunk);
    sum += step(done, to);
    done = to;
    elapsed = now() - t0;
    onChunk(done, sum);
  }
  return { opsPerSec: done / (elapsed / 1000), done, planned: total };
}
