/**
 * The naive model of an interval tree: an array in insertion order, scanned
 * in full. Serves as the oracle of the property tests and as the baseline of
 * the package benchmark.
 */
export interface NaiveInterval<T> {
  readonly start: number;
  readonly last: number;
  value: T;
}

export class NaiveIntervalList<T> {
  private items: NaiveInterval<T>[] = [];

  get size(): number {
    return this.items.length;
  }

  insert(start: number, last: number, value: T): NaiveInterval<T> {
    const item = { start, last, value };
    this.items.push(item);
    return item;
  }

  remove(item: NaiveInterval<T>): void {
    const i = this.items.indexOf(item);
    if (i < 0) throw new RangeError('not in the list');
    this.items.splice(i, 1);
  }

  /** Overlapping items in ascending start, equal starts in insertion order (sort is stable). */
  overlapping(start: number, last: number): NaiveInterval<T>[] {
    return this.items
      .filter((it) => it.start <= last && start <= it.last)
      .sort((a, b) => a.start - b.start);
  }

  /** Counts overlapping items without allocating. */
  countOverlapping(start: number, last: number): number {
    let hits = 0;
    for (const it of this.items) if (it.start <= last && start <= it.last) hits++;
    return hits;
  }

  all(): NaiveInterval<T>[] {
    return [...this.items].sort((a, b) => a.start - b.start);
  }
}
