/** Helpers for anonymous pages: anon_vma_prepare() and new anon page setup (mm/rmap.c). */
import type { Mm } from './mm.js';
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_SWAPBACKED } from './page-flags.js';
import type { Vma } from './vma.js';

/** Gives `vma` its own anon_vma id if it has none yet (anon_vma_prepare). */
export function anonVmaPrepare(mm: Mm, vma: Vma): number {
  if (vma.anonVma === 0) {
    vma.anonVma = mm.memory.newId();
    vma.anonChain.push(vma.anonVma);
  }
  return vma.anonVma;
}

/**
 * Marks a freshly allocated frame as an exclusive anon page of `vma` at `addr` with
 * mapcount 1 (folio_add_new_anon_rmap with RMAP_EXCLUSIVE). Caller holds the PTL and
 * installs the PTE.
 */
export function addNewAnonRmap(mm: Mm, vma: Vma, pfn: number, addr: number): void {
  const memory = mm.memory;
  memory.flags[pfn] = PG_ANON | PG_SWAPBACKED | PG_ANON_EXCLUSIVE;
  memory.mapping[pfn] = vma.anonVma;
  memory.index[pfn] = vma.pgoffOf(addr);
  memory.mapcount[pfn] = 1;
}
