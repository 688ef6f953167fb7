/**
 * fork(): dup_mmap (kernel/fork.c) and copy_page_range (mm/memory.c). For every VMA but
 * VM_DONTCOPY ones the child gets a copy; page tables are copied only where needed
 * (vma_needs_copy: anon pages exist, or VM_PFNMAP/VM_MIXEDMAP), under one
 * MMU_NOTIFY_PROTECTION_PAGE range of the parent per COW VMA: writable private PTEs are
 * write-protected in parent and child, pages gain a reference and a mapping, swap entries a
 * use. Anon pages that may be DMA-pinned are copied for the child at once
 * (copy_present_page); device-exclusive entries are restored first under a page trylock
 * (fork revokes exclusivity), and when that trylock fails the fork fails with ENOMEM, as
 * copy_pte_range() / copy_pmd_range() do. The parent's TLBs are flushed at the end
 * (flush_tlb_mm).
 */

import { MmuNotifierEvent, type MmuNotifierRange } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import { addNewAnonRmap } from './anon.js';
import {
  PAGE_SIZE,
  VM_DONTCOPY,
  VM_HUGETLB,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { restoreExclusivePteLocked } from './exclusive-restore.js';
import { copyHugetlbPinned } from './hugetlb.js';
import { Mm } from './mm.js';
import { PG_ANON, PG_ANON_EXCLUSIVE } from './page-flags.js';
import { PTRS_PER_TABLE } from './page-table.js';
import {
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
  SWP_WRITE,
} from './pte.js';
import { copyHugePmd, hugePmdSlot, splitHugePmd } from './thp.js';
import { checkAlive } from './validate.js';
import { Vma } from './vma.js';
import { pmdEnd } from './zap.js';

/** dup_mmap(): the body of Mm.fork(). */
export async function forkMm(parent: Mm): Promise<Mm> {
  checkAlive(parent);
  await parent.mmapLock.downWrite();
  const child = Mm.create(parent.memory);
  try {
    for (const v of parent.vmas) {
      if (v.flags & VM_DONTCOPY) continue;
      const c = dupVma(parent, v);
      child.linkVma(c);
      if (v.anonVma !== 0 || v.flags & (VM_PFNMAP | VM_MIXEDMAP))
        await copyPageRange(child, parent, v, c);
    }
  } catch (e) {
    parent.mmapLock.upWrite();
    await child.mmput();
    throw e;
  }
  parent.notifiers.archInvalidateSecondaryTlbs(0, Number.MAX_SAFE_INTEGER);
  parent.mmapLock.upWrite();
  return child;
}

/** copy_huge_pmd() under the parent's PTL; false when the caller must split and copy PTEs. */
function copyHuge(dst: Mm, src: Mm, addr: number, cow: boolean): boolean {
  src.ptl.lock();
  try {
    return copyHugePmd(dst, src, addr, cow);
  } finally {
    src.ptl.unlock();
  }
}

/** copy_hugetlb_page_range() for a pinned page, under the parent's PTL. */
function copyPinnedHugetlb(dst: Mm, src: Mm, dv: Vma, addr: number): boolean {
  src.ptl.lock();
  try {
    return copyHugetlbPinned(dst, dv, src.pt.pfn[hugePmdSlot(src, addr)]!, addr);
  } finally {
    src.ptl.unlock();
  }
}

/** vm_area_dup + anon_vma_fork: same range and file, a fresh anon_vma chained to the parent's. */
function dupVma(parent: Mm, v: Vma): Vma {
  v.file?.get();
  const c = new Vma(v.start, v.end, v.flags, v.pgoff, v.file, 0, [...v.anonChain]);
  if (v.anonVma !== 0) {
    c.anonVma = parent.memory.newId();
    c.anonChain.push(c.anonVma);
  }
  return c;
}

async function copyPageRange(dst: Mm, src: Mm, sv: Vma, dv: Vma): Promise<void> {
  const cow = (sv.flags & VM_SHARED) === 0;
  let range: MmuNotifierRange | undefined;
  if (cow) range = await src.invalidateStart(MmuNotifierEvent.PROTECTION_PAGE, sv.start, sv.end);
  try {
    for (let addr = sv.start; addr < sv.end; ) {
      const skip = src.pt.skipAbsent(addr);
      if (skip > addr) {
        addr = skip;
        continue;
      }
      const next = Math.min(sv.end, pmdEnd(addr));
      if (hugePmdSlot(src, addr) >= 0 && !copyHuge(dst, src, addr, cow)) {
        if (sv.flags & VM_HUGETLB) {
          if (!copyPinnedHugetlb(dst, src, dv, addr))
            throw new KernelError('ENOMEM', 'fork: no huge page to copy a pinned hugetlb page');
          addr = next;
          continue;
        }
        await splitHugePmd(src, addr);
      }
      if (src.pt.pteBase(addr, false) >= 0) await copyPteRange(dst, src, dv, addr, next, cow);
      addr = next;
    }
  } finally {
    if (range !== undefined) await src.notifiers.invalidateRangeEnd(range);
  }
}

async function copyPteRange(
  dst: Mm,
  src: Mm,
  dv: Vma,
  start: number,
  end: number,
  cow: boolean,
): Promise<void> {
  const dbase = dst.pt.pteBase(start, true);
  const first = Math.floor(start / PAGE_SIZE) % PTRS_PER_TABLE;
  const n = (end - start) / PAGE_SIZE;
  for (let i = 0; i < n; ) {
    const sbase = src.pt.pteBase(start, false);
    // The child is not reachable by any other task yet, so its entries are written without
    // its PTL (the kernel nests it inside the parent's; our lockdep has no nesting level).
    src.ptl.lock();
    let busy = -1;
    try {
      for (; i < n; i++) {
        const addr = start + i * PAGE_SIZE;
        busy = copyOne(dst, src, dv, sbase + first + i, dbase + first + i, addr, cow);
        if (busy !== -1) break;
      }
    } finally {
      src.ptl.unlock();
    }
    if (busy === NO_MEMORY) throw new KernelError('ENOMEM', 'fork: no page to copy a pinned page');
    // copy_pte_range() passes copy_nonpresent_pte()'s -EBUSY up and copy_pmd_range() turns
    // any failure into -ENOMEM: the whole fork fails, nothing waits for the page lock.
    if (busy >= 0)
      throw new KernelError(
        'ENOMEM',
        `fork: device-exclusive page ${busy} at ${start + i * PAGE_SIZE} is locked`,
      );
  }
}

const NO_MEMORY = -2;

/** Copies one entry; returns -1 when done, a pfn whose lock is busy, or NO_MEMORY. */
function copyOne(
  dst: Mm,
  src: Mm,
  dv: Vma,
  sslot: number,
  dslot: number,
  addr: number,
  cow: boolean,
): number {
  const memory = src.memory;
  let bits = src.pt.bits[sslot]!;
  const pfn = src.pt.pfn[sslot]!;
  const kind = pteKind(bits);
  if (kind === PteKind.NONE) return -1;
  if (kind === PteKind.DEVICE_EXCLUSIVE) {
    if (!memory.trylockPage(pfn)) return pfn;
    restoreExclusivePteLocked(src, addr);
    memory.unlockPage(pfn);
    bits = src.pt.bits[sslot]!;
  }
  if (kind === PteKind.SWAP) memory.swap.dup(pfn);
  else if (kind === PteKind.MIGRATION || kind === PteKind.DEVICE_PRIVATE) {
    if (kind === PteKind.DEVICE_PRIVATE) shareAnon(src, pfn);
    if (cow && bits & SWP_WRITE) {
      bits &= ~SWP_WRITE;
      src.pt.bits[sslot] = bits;
    }
  } else if (!(bits & PTE_SPECIAL)) {
    if (memory.flags[pfn]! & PG_ANON && memory.pincount[pfn]! > 0)
      return copyPresentPage(dst, dv, pfn, dslot, addr) ? -1 : NO_MEMORY;
    shareAnon(src, pfn);
    if (cow && bits & PTE_WRITE) {
      bits &= ~PTE_WRITE;
      src.pt.bits[sslot] = bits;
    }
  }
  if (kind === PteKind.PRESENT || kind === PteKind.DEVICE_EXCLUSIVE)
    bits &= ~(PTE_YOUNG | (cow ? 0 : PTE_DIRTY));
  dst.pt.bits[dslot] = bits;
  dst.pt.pfn[dslot] = pfn;
  return -1;
}

/** Takes the child's reference and mapping of `pfn` (folio_try_dup_anon_rmap / dup_file_rmap). */
function shareAnon(src: Mm, pfn: number): void {
  const memory = src.memory;
  // The entry holds a reference, so the frame is in use: no need for getPage()'s checks.
  memory.refcount[pfn]!++;
  memory.mapcount[pfn]!++;
  memory.flags[pfn]! &= ~PG_ANON_EXCLUSIVE;
}

/** copy_present_page(): a possibly pinned anon page is copied for the child at once. */
function copyPresentPage(dst: Mm, dv: Vma, src: number, dslot: number, addr: number): boolean {
  const memory = dst.memory;
  const pfn = memory.allocPage();
  if (pfn < 0) return false;
  memory.copyPage(pfn, src);
  addNewAnonRmap(dst, dv, pfn, addr);
  dst.pt.pfn[dslot] = pfn;
  dst.pt.bits[dslot] = PTE_PRESENT | PTE_DIRTY | (dv.flags & VM_WRITE ? PTE_WRITE : 0);
  return true;
}
