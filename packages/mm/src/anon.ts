/** Helpers for anonymous pages: anon_vma_prepare() and new anon page setup (mm/rmap.c). */
import { KernelError } from '@hmmkit/runtime';
import type { Mm } from './mm.js';
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_SWAPBACKED } from './page-flags.js';
import type { Vma } from './vma.js';

/**
 * Gives `vma` its own anon_vma id if it has none yet and returns the id, so anon pages of
 * the VMA can be found by rmapWalk(). Mirrors anon_vma_prepare().
 * **Locking**: mmap_lock held (read is enough: the kernel serialises on the anon_vma lock
 * and page_table_lock, which run-to-block scheduling makes implicit here); never sleeps
 * in this model, but the kernel's may allocate (GFP_KERNEL), so not under a spinlock.
 * @example
 * ```ts
 * const id = anonVmaPrepare(mm, vma); // vma.anonVma === id, id !== 0
 * ```
 */
export function anonVmaPrepare(mm: Mm, vma: Vma): number {
  if (vma.anonVma === 0) {
    vma.anonVma = mm.memory.newId();
    vma.anonChain.push(vma.anonVma);
  }
  return vma.anonVma;
}

/**
 * Marks a freshly allocated frame as an exclusive anon page of `vma` at `addr` with
 * mapcount 1; its flags are replaced by PG_ANON | PG_SWAPBACKED | PG_ANON_EXCLUSIVE.
 * Mirrors folio_add_new_anon_rmap() with RMAP_EXCLUSIVE.
 * **Locking**: `mm.ptl` held (or the page not yet visible to anyone); the caller has run
 * anonVmaPrepare() on `vma` and installs the PTE; never sleeps.
 * @throws KernelError EINVAL when `pfn` is not a known frame.
 */
export function addNewAnonRmap(mm: Mm, vma: Vma, pfn: number, addr: number): void {
  const memory = mm.memory;
  if (!memory.validPfn(pfn)) throw new KernelError('EINVAL', `pfn ${pfn} is not a known frame`);
  memory.flags[pfn] = PG_ANON | PG_SWAPBACKED | PG_ANON_EXCLUSIVE;
  memory.mapping[pfn] = vma.anonVma;
  memory.index[pfn] = vma.pgoffOf(addr);
  memory.mapcount[pfn] = 1;
}
