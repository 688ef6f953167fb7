/**
 * PMD-mapped transparent huge pages for private anonymous VMAs with VM_HUGEPAGE
 * (mm/huge_memory.c): do_huge_pmd_anonymous_page on a write fault, reuse on a write to an
 * exclusive huge PMD (do_huge_pmd_wp_page), NUMA hints (do_huge_pmd_numa_page), and
 * __split_huge_pmd, which every partial operation uses first (VMA split, partial zap or
 * mprotect, COW of a shared huge PMD, pins, reclaim, migration, mremap), sending
 * MMU_NOTIFY_CLEAR over the 2 MiB range.
 *
 * Accounting: the 512 frames of a THP keep their own refcount and mapcount (the kernel
 * keeps the folio's on its head); PG_HEAD marks the first frame. A huge PMD counts as one
 * mapping of each of its frames, so the invariant checker's per-frame count holds.
 */
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { addNewAnonRmap, anonVmaPrepare } from './anon.js';
import {
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  PMD_SIZE,
  VM_FAULT_FALLBACK,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import type { Mm } from './mm.js';
import type { MmuGather } from './mmu-gather.js';
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_HEAD, PG_REFERENCED } from './page-flags.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { HPAGE_NR } from './physical-memory.js';
import { PTE_DIRTY, PTE_HUGE, PTE_PRESENT, PTE_PROTNONE, PTE_WRITE, PTE_YOUNG } from './pte.js';
import type { Vma } from './vma.js';

/** Start of the 2 MiB span holding `addr`. */
export function pmdStart(addr: number): number {
  return Math.floor(addr / PMD_SIZE) * PMD_SIZE;
}

/** Slot of the huge PMD covering `addr`, or -1 when there is none. */
export function hugePmdSlot(mm: Mm, addr: number): number {
  const pmd = mm.pt.pmdSlot(addr, false);
  return pmd >= 0 && mm.pt.bits[pmd]! & PTE_HUGE ? pmd : -1;
}

/** thp_vma_allowable_order() + the alignment test of do_huge_pmd_anonymous_page. */
export function hugeAllowed(vma: Vma, addr: number): boolean {
  const h = pmdStart(addr);
  const bad = VM_NOHUGEPAGE | VM_SHARED | VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB;
  return (
    (vma.flags & VM_HUGEPAGE) !== 0 &&
    !(vma.flags & bad) &&
    vma.isAnonymous &&
    h >= vma.start &&
    h + PMD_SIZE <= vma.end
  );
}

/** do_huge_pmd_anonymous_page() for a write fault; VM_FAULT_FALLBACK to use 4 KiB pages. */
export function doHugeAnonymousPage(mm: Mm, vma: Vma, addr: number): number {
  const { pt, memory } = mm;
  const h = pmdStart(addr);
  const pmd = pt.pmdSlot(h, true);
  if (pt.bits[pmd] !== 0) return VM_FAULT_FALLBACK;
  const head = memory.allocHugeFrames();
  if (head < 0) return VM_FAULT_FALLBACK;
  anonVmaPrepare(mm, vma);
  mm.ptl.lock();
  for (let i = 0; i < HPAGE_NR; i++) addNewAnonRmap(mm, vma, head + i, h + i * PAGE_SIZE);
  memory.flags[head]! |= PG_HEAD;
  pt.pfn[pmd] = head;
  pt.bits[pmd] =
    PTE_PRESENT | PTE_HUGE | PTE_YOUNG | PTE_DIRTY | (vma.flags & VM_WRITE ? PTE_WRITE : 0);
  mm.ptl.unlock();
  return 0;
}

/** A fault on a huge PMD: NUMA hint, reuse on write, or split and fall back to PTEs. */
export async function hugePmdFault(mm: Mm, addr: number, flags: number): Promise<number> {
  const pt = mm.pt;
  const pmd = hugePmdSlot(mm, addr);
  if (pmd < 0) return 0;
  const bits = pt.bits[pmd]!;
  if (bits & PTE_PROTNONE) {
    pt.bits[pmd] = (bits & ~PTE_PROTNONE) | PTE_YOUNG;
    return 0;
  }
  if (!(flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) || bits & PTE_WRITE) return 0;
  if (allExclusive(mm, pt.pfn[pmd]!)) {
    if (flags & FAULT_FLAG_WRITE) pt.bits[pmd] = bits | PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
    return 0;
  }
  await splitHugePmd(mm, addr);
  return 0;
}

/** Whether every frame of the THP at `head` is anon-exclusive (folio exclusive). */
export function allExclusive(mm: Mm, head: number): boolean {
  const f = mm.memory.flags;
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++)
    if (!(f[pfn]! & PG_ANON_EXCLUSIVE)) return false;
  return true;
}

/**
 * Replaces the huge PMD covering `addr` by a PTE table mapping the same frames with the
 * same bits, under a MMU_NOTIFY_CLEAR range over the 2 MiB span. Mirrors
 * __split_huge_pmd(). No-op when no huge PMD covers `addr`. For
 * @hmmkit/device-exclusive (FOLL_SPLIT_PMD) and drivers.
 * **Locking**: mmap_lock held; takes the PTL; may sleep in the notifier calls.
 */
export async function splitHugePmd(mm: Mm, addr: number): Promise<void> {
  if (hugePmdSlot(mm, addr) < 0) return;
  const h = pmdStart(addr);
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, h, h + PMD_SIZE);
  mm.ptl.lock();
  const pmd = hugePmdSlot(mm, h);
  if (pmd >= 0) {
    const pt = mm.pt;
    const table = pt.allocTable();
    const head = pt.pfn[pmd]!;
    const bits = pt.bits[pmd]! & ~PTE_HUGE;
    pt.bits[pmd] = 0; // pmdp_invalidate
    mm.notifiers.archInvalidateSecondaryTlbs(h, h + PMD_SIZE);
    const base = table * PTRS_PER_TABLE;
    for (let i = 0; i < HPAGE_NR; i++) {
      pt.pfn[base + i] = head + i;
      pt.bits[base + i] = bits;
    }
    pt.pfn[pmd] = table;
    pt.bits[pmd] = PTE_PRESENT;
  }
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
}

/**
 * Splits the huge PMDs that [start, end) covers only partly (all of them with `all`), as
 * vma_adjust_trans_huge and the partial-PMD paths of zap/mprotect do.
 */
export async function splitHugeRange(
  mm: Mm,
  start: number,
  end: number,
  all = false,
): Promise<void> {
  if (all) {
    for (let a = pmdStart(start); a < end; a += PMD_SIZE) {
      const skip = mm.pt.skipAbsent(a);
      if (skip > a) a = skip - PMD_SIZE;
      else await splitHugePmd(mm, a);
    }
    return;
  }
  if (start % PMD_SIZE !== 0) await splitHugePmd(mm, start);
  if (end % PMD_SIZE !== 0) await splitHugePmd(mm, end);
}

/** zap_huge_pmd(): the whole span [h, h + PMD_SIZE) is being zapped. Caller holds the PTL. */
export function zapHugePmd(mm: Mm, h: number, tlb: MmuGather): void {
  const { pt, memory } = mm;
  const pmd = hugePmdSlot(mm, h);
  const head = pt.pfn[pmd]!;
  const bits = pt.bits[pmd]!;
  pt.bits[pmd] = 0;
  pt.pfn[pmd] = 0;
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++) {
    memory.mapcount[pfn]!--;
    if (bits & PTE_DIRTY) memory.flags[pfn]! |= PG_DIRTY;
    if (bits & PTE_YOUNG) memory.flags[pfn]! |= PG_REFERENCED;
    tlb.removePage(pfn);
  }
  tlb.track(h, h + PMD_SIZE);
}

/**
 * copy_huge_pmd(): the child maps the same frames; a writable COW PMD is write-protected
 * in both. Returns false when a frame may be pinned: the caller splits and copies PTEs.
 * Caller holds the parent's PTL.
 */
export function copyHugePmd(dst: Mm, src: Mm, h: number, cow: boolean): boolean {
  const memory = src.memory;
  const spmd = hugePmdSlot(src, h);
  const head = src.pt.pfn[spmd]!;
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++) if (memory.pincount[pfn]! > 0) return false;
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++) {
    memory.refcount[pfn]!++;
    memory.mapcount[pfn]!++;
    memory.flags[pfn]! &= ~PG_ANON_EXCLUSIVE;
  }
  if (cow) src.pt.bits[spmd]! &= ~PTE_WRITE;
  const dpmd = dst.pt.pmdSlot(h, true);
  dst.pt.pfn[dpmd] = head;
  dst.pt.bits[dpmd] = src.pt.bits[spmd]! & ~PTE_YOUNG;
  return true;
}

/** change_huge_pmd(): the new protection of a huge PMD fully inside an mprotect range. */
export function changeHugePmd(mm: Mm, h: number, vmaFlags: number, none: boolean): void {
  const pmd = hugePmdSlot(mm, h);
  const bits = mm.pt.bits[pmd]!;
  let next = bits & ~(PTE_WRITE | PTE_PROTNONE);
  if (none) next |= PTE_PROTNONE;
  else if (vmaFlags & VM_WRITE && allExclusive(mm, mm.pt.pfn[pmd]!)) next |= PTE_WRITE;
  mm.pt.bits[pmd] = next;
}

/** madvise_free_huge_pmd(): clean and lazily free a whole, exclusively mapped THP. */
export function lazyFreeHugePmd(mm: Mm, h: number, swapbackedMask: number): void {
  const { pt, memory } = mm;
  const pmd = hugePmdSlot(mm, h);
  const head = pt.pfn[pmd]!;
  if (memory.mapcount[head] !== 1 || !(memory.flags[head]! & PG_ANON)) return;
  pt.bits[pmd]! &= ~(PTE_DIRTY | PTE_YOUNG);
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++) memory.flags[pfn]! &= ~swapbackedMask;
}

/**
 * Slot of the leaf entry mapping `addr`: its PTE, or the huge PMD covering it; -1 when no
 * table reaches it. For a huge PMD the page's pfn is `pfn[slot] + (vpn & 511)`.
 */
export function leafSlot(mm: Mm, addr: number): number {
  const pt = mm.pt;
  const pmd = pt.pmdSlot(addr, false);
  if (pmd < 0) return -1;
  const bits = pt.bits[pmd]!;
  if (bits & PTE_HUGE) return pmd;
  if (!(bits & PTE_PRESENT)) return -1;
  return pt.pfn[pmd]! * PTRS_PER_TABLE + (Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE);
}

/** pfn of the page at `addr` given its leaf slot (see leafSlot). */
export function leafPfn(mm: Mm, addr: number, slot: number): number {
  const pfn = mm.pt.pfn[slot]!;
  return mm.pt.bits[slot]! & PTE_HUGE ? pfn + (Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE) : pfn;
}
