/**
 * Clearing page-table entries over a range and releasing what they held
 * (zap_pte_range / zap_nonpresent_ptes in mm/memory.c, free_pgtables in mm/memory.c).
 *
 * Locking: the caller holds the mmap_lock (read or write) and has started the notifier
 * range; each PTE table is cleared under the PTL. Present pages go to the gather and are put
 * after the TLB flush; device-private and device-exclusive pages are put at once, as
 * zap_nonpresent_ptes() does.
 */
import { PAGE_SIZE, PMD_SIZE } from './constants.js';
import type { Mm } from './mm.js';
import type { MmuGather } from './mmu-gather.js';
import { PG_DIRTY, PG_REFERENCED } from './page-flags.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { PTE_DIRTY, PTE_SPECIAL, PTE_YOUNG, PteKind, pteKind } from './pte.js';
import { zapHugePmd } from './thp.js';

/** End of the PMD span holding `addr` (pmd_addr_end without the clamp). */
export function pmdEnd(addr: number): number {
  return (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE;
}

/** Clears every entry of [start, end), which lies in one VMA (unmap_page_range). */
export function zapRange(mm: Mm, start: number, end: number, tlb: MmuGather): void {
  const pt = mm.pt;
  for (let addr = start; addr < end; ) {
    const skip = pt.skipAbsent(addr);
    if (skip > addr) {
      addr = skip;
      continue;
    }
    const next = Math.min(end, pmdEnd(addr));
    const base = pt.pteBase(addr, false);
    if (base === -2) {
      if (addr % PMD_SIZE !== 0 || next - addr !== PMD_SIZE)
        throw new Error(`partial zap of the huge PMD at ${addr}: the caller must split it first`);
      mm.ptl.lock();
      zapHugePmd(mm, addr, tlb);
      mm.ptl.unlock();
    } else if (base >= 0) {
      mm.ptl.lock();
      zapPtes(mm, base, addr, next, tlb);
      mm.ptl.unlock();
    }
    addr = next;
  }
}

function zapPtes(mm: Mm, base: number, start: number, end: number, tlb: MmuGather): void {
  const { pt, memory } = mm;
  const first = base + (Math.floor(start / PAGE_SIZE) % PTRS_PER_TABLE);
  const last = first + (end - start) / PAGE_SIZE;
  let changed = false;
  for (let slot = first; slot < last; slot++) {
    const bits = pt.bits[slot]!;
    if (bits === 0) continue;
    const pfn = pt.pfn[slot]!;
    pt.bits[slot] = 0;
    pt.pfn[slot] = 0;
    changed = true;
    switch (pteKind(bits)) {
      case PteKind.PRESENT:
        if (bits & PTE_SPECIAL) break;
        memory.mapcount[pfn]!--;
        if (bits & PTE_DIRTY) memory.flags[pfn]! |= PG_DIRTY;
        if (bits & PTE_YOUNG) memory.flags[pfn]! |= PG_REFERENCED;
        tlb.removePage(pfn);
        break;
      case PteKind.SWAP:
        memory.swap.put(pfn);
        break;
      case PteKind.DEVICE_PRIVATE:
      case PteKind.DEVICE_EXCLUSIVE:
        memory.mapcount[pfn]!--;
        memory.putPage(pfn);
        break;
      default:
        // A migration entry holds no mapcount; the migration owns the page.
        break;
    }
  }
  if (changed) tlb.track(start, end);
}

/**
 * Frees the PTE tables of [start, end) that no VMA overlaps any more (free_pgtables). Upper
 * levels stay allocated until the address space is destroyed.
 */
export function freePgtables(mm: Mm, start: number, end: number): void {
  const pt = mm.pt;
  for (let addr = Math.floor(start / PMD_SIZE) * PMD_SIZE; addr < end; addr += PMD_SIZE) {
    const skip = pt.skipAbsent(addr);
    if (skip > addr) {
      addr = skip - PMD_SIZE;
      continue;
    }
    if (mm.anyVmaIn(addr, addr + PMD_SIZE)) continue;
    const pmd = pt.pmdSlot(addr, false);
    if (pmd < 0 || pt.pteBase(addr, false) < 0) continue;
    const base = pt.pfn[pmd]! * PTRS_PER_TABLE;
    if (pt.tableEmpty(base)) pt.freePteTable(pmd);
  }
}
