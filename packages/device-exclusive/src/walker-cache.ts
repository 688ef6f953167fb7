/**
 * One PageTableWalker per address space, so the per-page paths allocate nothing.
 *
 * Sharing is safe under cooperative scheduling because every use is reset() + next() + reading
 * the fields with no await in between: no other task can move the walker mid-use.
 */
import { type Mm, PAGE_SIZE, PageTableWalker } from '@hmmkit/mm';

const walkers = new WeakMap<Mm, PageTableWalker>();

/** The walker of `mm`, positioned on the entry at page-aligned `addr`. */
export function entryAt(mm: Mm, addr: number): PageTableWalker {
  let w = walkers.get(mm);
  if (w === undefined) {
    w = new PageTableWalker(mm);
    walkers.set(mm, w);
  }
  w.reset(addr, addr + PAGE_SIZE);
  w.next();
  return w;
}
