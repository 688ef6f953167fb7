/**
 * Bulk fault-in of a range (populate_vma_page_range / __mm_populate in mm/gup.c), as
 * MAP_POPULATE does. Private anonymous VMAs take a fault-around fast path: each PTE table is
 * filled under one PTL acquisition, with no allocation besides the frames themselves.
 * Entries that are not none (and every other VMA type) go through handle_mm_fault().
 * Errors are ignored, as mm_populate() ignores them for mmap.
 */

import { addNewAnonRmap, anonVmaPrepare } from './anon.js';
import {
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  VM_FAULT_ERROR,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { handleMmFault } from './fault.js';
import type { Mm } from './mm.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { ZERO_PFN } from './physical-memory.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_SPECIAL, PTE_WRITE, PTE_YOUNG } from './pte.js';
import { leafSlot } from './thp.js';
import type { Vma } from './vma.js';
import { pmdEnd } from './zap.js';

/** Faults in [start, end) of `vma`; mmap_lock held for read. */
export async function populateRange(mm: Mm, vma: Vma, start: number, end: number): Promise<void> {
  if (vma.flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) return;
  const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  const fast = vma.isAnonymous && !(vma.flags & (VM_SHARED | VM_HUGEPAGE | VM_HUGETLB));
  if (fast && !fillNone(mm, vma, start, end, write)) return;
  const need = PTE_PRESENT | (write ? PTE_WRITE : 0);
  const flags = write ? FAULT_FLAG_WRITE : 0;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    for (;;) {
      const slot = leafSlot(mm, addr);
      if (slot >= 0 && (mm.pt.bits[slot]! & need) === need) break;
      if ((await handleMmFault(mm, addr, flags)) & VM_FAULT_ERROR) return;
    }
  }
}

/**
 * Fills the none entries of [start, end) with new anon pages (write) or the zero page.
 * Returns whether a slow pass is needed: some entry was not none, or memory ran out.
 */
function fillNone(mm: Mm, vma: Vma, start: number, end: number, write: boolean): boolean {
  const { memory } = mm;
  if (write) anonVmaPrepare(mm, vma);
  const anonBits = PTE_PRESENT | PTE_YOUNG | PTE_DIRTY | PTE_WRITE;
  let slow = false;
  for (let addr = start; addr < end; ) {
    const next = Math.min(end, pmdEnd(addr));
    const base = mm.pt.pteBase(addr, true);
    if (base < 0) return true;
    const first = base + (Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE);
    const n = (next - addr) / PAGE_SIZE;
    mm.ptl.lock();
    const { pfn: pfns, bits } = mm.pt;
    for (let i = 0; i < n; i++) {
      const slot = first + i;
      if (bits[slot] !== 0) {
        slow = true;
        continue;
      }
      if (!write) {
        pfns[slot] = ZERO_PFN;
        bits[slot] = PTE_PRESENT | PTE_SPECIAL | PTE_YOUNG;
        continue;
      }
      const pfn = memory.allocPage();
      if (pfn < 0) {
        mm.ptl.unlock();
        return true;
      }
      addNewAnonRmap(mm, vma, pfn, addr + i * PAGE_SIZE);
      pfns[slot] = pfn;
      bits[slot] = anonBits;
    }
    mm.ptl.unlock();
    addr = next;
  }
  return slow;
}
