/**
 * hugetlb faults (mm/hugetlb.c) for MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB mappings: a fault
 * takes a 2 MiB page from the pool and maps it with a PMD leaf (hugetlb_no_page); a write
 * to a shared leaf copies the whole huge page under a 2 MiB MMU_NOTIFY_CLEAR range
 * (hugetlb_wp), an exclusive one is reused. Leaves are never split; operations that would
 * cut one fail with EINVAL. Frames are accounted per 4 KiB frame, as for THP.
 */
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { addNewAnonRmap, anonVmaPrepare } from './anon.js';
import {
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  PMD_SIZE,
  VM_FAULT_SIGBUS,
  VM_WRITE,
} from './constants.js';
import type { Mm } from './mm.js';
import { PG_HEAD, PG_HUGETLB } from './page-flags.js';
import { HPAGE_NR } from './physical-memory.js';
import { PTE_DIRTY, PTE_HUGE, PTE_PRESENT, PTE_WRITE, PTE_YOUNG } from './pte.js';
import { allExclusive, pmdStart } from './thp.js';
import type { Vma } from './vma.js';

/** hugetlb_fault(). Caller holds the mmap_lock for read. */
export async function hugetlbFault(mm: Mm, vma: Vma, addr: number, flags: number): Promise<number> {
  const h = pmdStart(addr);
  const pmd = mm.pt.pmdSlot(h, true);
  const bits = mm.pt.bits[pmd]!;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (bits === 0) return hugetlbNoPage(mm, vma, h, pmd, write);
  if (!(bits & PTE_HUGE)) return VM_FAULT_SIGBUS;
  if (!(flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) || bits & PTE_WRITE) {
    mm.pt.bits[pmd] = bits | PTE_YOUNG | (write ? PTE_DIRTY : 0);
    return 0;
  }
  if (allExclusive(mm, mm.pt.pfn[pmd]!)) {
    if (write) mm.pt.bits[pmd] = bits | PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
    return 0;
  }
  return hugetlbWp(mm, vma, h, pmd, write);
}

/** Marks the frames of a new hugetlb page as this VMA's exclusive anon page. */
function installRmap(mm: Mm, vma: Vma, head: number, h: number): void {
  const memory = mm.memory;
  for (let i = 0; i < HPAGE_NR; i++) {
    addNewAnonRmap(mm, vma, head + i, h + i * PAGE_SIZE);
    memory.flags[head + i]! |= PG_HUGETLB;
  }
  memory.flags[head]! |= PG_HEAD;
}

function leafBits(vma: Vma, write: boolean): number {
  const w = write && vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0;
  return PTE_PRESENT | PTE_HUGE | PTE_YOUNG | w;
}

function putFrames(mm: Mm, head: number): void {
  for (let pfn = head; pfn < head + HPAGE_NR; pfn++) mm.memory.putPage(pfn);
}

/** hugetlb_no_page(): a page from the pool, or SIGBUS when the pool is empty. */
function hugetlbNoPage(mm: Mm, vma: Vma, h: number, pmd: number, write: boolean): number {
  const head = mm.memory.allocHugetlb();
  if (head < 0) return VM_FAULT_SIGBUS;
  anonVmaPrepare(mm, vma);
  mm.ptl.lock();
  if (mm.pt.bits[pmd] !== 0) {
    mm.ptl.unlock();
    putFrames(mm, head);
    return 0;
  }
  installRmap(mm, vma, head, h);
  mm.pt.pfn[pmd] = head;
  mm.pt.bits[pmd] = leafBits(vma, write);
  mm.ptl.unlock();
  return 0;
}

/** hugetlb_wp(): copy a shared huge page for this mapping. */
async function hugetlbWp(
  mm: Mm,
  vma: Vma,
  h: number,
  pmd: number,
  write: boolean,
): Promise<number> {
  const memory = mm.memory;
  const old = mm.pt.pfn[pmd]!;
  const oldBits = mm.pt.bits[pmd]!;
  const head = memory.allocHugetlb();
  if (head < 0) return VM_FAULT_SIGBUS;
  for (let i = 0; i < HPAGE_NR; i++) {
    memory.getPage(old + i);
    memory.copyPage(head + i, old + i);
  }
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, h, h + PMD_SIZE);
  mm.ptl.lock();
  const same = mm.pt.bits[pmd] === oldBits && mm.pt.pfn[pmd] === old;
  if (same) {
    mm.pt.bits[pmd] = 0;
    mm.notifiers.archInvalidateSecondaryTlbs(h, h + PMD_SIZE);
    installRmap(mm, vma, head, h);
    mm.pt.pfn[pmd] = head;
    mm.pt.bits[pmd] = leafBits(vma, write) | PTE_DIRTY;
    for (let pfn = old; pfn < old + HPAGE_NR; pfn++) memory.mapcount[pfn]!--;
  }
  mm.ptl.unlock();
  if (same)
    putFrames(mm, old); // the old leaf's references
  else putFrames(mm, head);
  await mm.notifiers.invalidateRangeEnd(range);
  putFrames(mm, old); // the fault's references
  return 0;
}

/**
 * copy_hugetlb_page_range() for a possibly pinned page: the child gets its own copy.
 * Returns false when the pool is empty. Caller holds the parent's PTL.
 */
export function copyHugetlbPinned(dst: Mm, dv: Vma, src: number, h: number): boolean {
  const memory = dst.memory;
  const head = memory.allocHugetlb();
  if (head < 0) return false;
  for (let i = 0; i < HPAGE_NR; i++) memory.copyPage(head + i, src + i);
  installRmap(dst, dv, head, h);
  const pmd = dst.pt.pmdSlot(h, true);
  dst.pt.pfn[pmd] = head;
  dst.pt.bits[pmd] = leafBits(dv, true);
  return true;
}
