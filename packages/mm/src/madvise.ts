/**
 * madvise(): do_madvise / madvise_walk_vmas (mm/madvise.c). The range is walked VMA by VMA;
 * a hole makes the call fail with ENOMEM after the mapped parts were handled, as the kernel
 * does. MADV_DONTNEED zaps under MMU_NOTIFY_CLEAR (zap_page_range_single); MADV_FREE clears
 * dirty/young on exclusive anon pages and marks them lazily freeable (clears
 * PG_SWAPBACKED, PG_DIRTY) and drops swap entries, under MMU_NOTIFY_CLEAR; the others only
 * change VMA flags (splitting VMAs at the range edges).
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  MADV_DOFORK,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  PAGE_SIZE,
  PMD_SIZE,
  TASK_SIZE,
  VM_DONTCOPY,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_SHARED,
} from './constants.js';
import type { Mm } from './mm.js';
import { splitVma } from './mmap.js';
import { MmuGather } from './mmu-gather.js';
import { PG_ANON, PG_DIRTY, PG_SWAPBACKED } from './page-flags.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { PTE_DIRTY, PTE_SPECIAL, PTE_YOUNG, PteKind, pteKind } from './pte.js';
import { lazyFreeHugePmd, splitHugeRange } from './thp.js';
import { checkAlive, checkInteger, isPageAligned, pageAlign } from './validate.js';
import type { Vma } from './vma.js';
import { pmdEnd, zapRange } from './zap.js';

const ADVICE = new Set([
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTFORK,
  MADV_DOFORK,
]);

/** do_madvise(): the body of Mm.madvise(). */
export async function madvise(
  mm: Mm,
  start: number,
  length: number,
  advice: number,
): Promise<void> {
  checkAlive(mm);
  checkInteger('addr', start);
  checkInteger('length', length);
  checkInteger('advice', advice);
  if (!ADVICE.has(advice)) throw new KernelError('EINVAL', `unknown advice ${advice}`);
  if (start < 0 || !isPageAligned(start))
    throw new KernelError('EINVAL', `addr must be page aligned, got ${start}`);
  if (length < 0) throw new KernelError('EINVAL', `length must be >= 0, got ${length}`);
  const end = start + pageAlign(length);
  if (end > TASK_SIZE) throw new KernelError('EINVAL', `[${start}, ${end}) passes TASK_SIZE`);
  if (end === start) return;
  const zapping = advice === MADV_DONTNEED || advice === MADV_FREE;
  if (zapping) await mm.mmapLock.downRead();
  else await mm.mmapLock.downWrite();
  try {
    await walkVmas(mm, start, end, advice);
  } finally {
    if (zapping) mm.mmapLock.upRead();
    else mm.mmapLock.upWrite();
  }
}

async function walkVmas(mm: Mm, start: number, end: number, advice: number): Promise<void> {
  let unmapped = false;
  for (let addr = start; addr < end; ) {
    const v = mm.findVma(addr);
    if (v === undefined || v.start >= end) {
      unmapped = true;
      break;
    }
    if (v.start > addr) unmapped = true;
    const s = Math.max(addr, v.start);
    const e = Math.min(end, v.end);
    await adviseOne(mm, v, s, e, advice);
    addr = e;
  }
  if (unmapped) throw new KernelError('ENOMEM', `[${start}, ${end}) has unmapped holes`);
}

async function adviseOne(mm: Mm, v: Vma, s: number, e: number, advice: number): Promise<void> {
  switch (advice) {
    case MADV_DONTNEED:
      if (v.flags & VM_PFNMAP)
        throw new KernelError('EINVAL', `MADV_DONTNEED on a VM_PFNMAP mapping at ${s}`);
      if (v.flags & VM_HUGETLB) return dontneedHugetlb(mm, s, e);
      return dontneed(mm, s, e);
    case MADV_FREE:
      if (!v.isAnonymous || v.flags & (VM_SHARED | VM_HUGETLB))
        throw new KernelError('EINVAL', `MADV_FREE needs private anonymous memory at ${s}`);
      return lazyFree(mm, s, e);
    case MADV_HUGEPAGE:
      return setFlags(mm, s, e, v, (v.flags | VM_HUGEPAGE) & ~VM_NOHUGEPAGE);
    case MADV_NOHUGEPAGE:
      return setFlags(mm, s, e, v, (v.flags | VM_NOHUGEPAGE) & ~VM_HUGEPAGE);
    case MADV_DONTFORK:
      return setFlags(mm, s, e, v, v.flags | VM_DONTCOPY);
    default:
      if (v.flags & VM_IO) throw new KernelError('EINVAL', `MADV_DOFORK on VM_IO at ${s}`);
      return setFlags(mm, s, e, v, v.flags & ~VM_DONTCOPY);
  }
}

async function setFlags(mm: Mm, s: number, e: number, v: Vma, flags: number): Promise<void> {
  if (flags === v.flags) return;
  await splitVma(mm, s);
  await splitVma(mm, e);
  mm.vmaLookup(s)!.flags = flags;
}

/** madvise_dontneed_free_valid_vma() for hugetlb: start aligned, end aligned down. */
async function dontneedHugetlb(mm: Mm, s: number, e: number): Promise<void> {
  if (s % PMD_SIZE !== 0)
    throw new KernelError(
      'EINVAL',
      `MADV_DONTNEED on hugetlb needs a 2 MiB aligned start, got ${s}`,
    );
  const end = Math.floor(e / PMD_SIZE) * PMD_SIZE;
  if (end > s) await dontneed(mm, s, end);
}

/** zap_page_range_single(): MMU_NOTIFY_CLEAR start, zap, end, flush, free. */
async function dontneed(mm: Mm, s: number, e: number): Promise<void> {
  await splitHugeRange(mm, s, e);
  const tlb = new MmuGather(mm);
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, s, e);
  zapRange(mm, s, e, tlb);
  await mm.notifiers.invalidateRangeEnd(range);
  tlb.finish();
}

/** madvise_free_single_vma() / madvise_free_pte_range(). */
async function lazyFree(mm: Mm, s: number, e: number): Promise<void> {
  await splitHugeRange(mm, s, e);
  const tlb = new MmuGather(mm);
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, s, e);
  for (let addr = s; addr < e; ) {
    const skip = mm.pt.skipAbsent(addr);
    if (skip > addr) {
      addr = skip;
      continue;
    }
    const next = Math.min(e, pmdEnd(addr));
    const base = mm.pt.pteBase(addr, false);
    if (base === -2) lazyFreeHugePmd(mm, addr, PG_SWAPBACKED | PG_DIRTY);
    else if (base >= 0) lazyFreePtes(mm, base, addr, next, tlb);
    addr = next;
  }
  await mm.notifiers.invalidateRangeEnd(range);
  tlb.finish();
}

function lazyFreePtes(mm: Mm, base: number, start: number, end: number, tlb: MmuGather): void {
  const { pt, memory } = mm;
  const first = base + (Math.floor(start / PAGE_SIZE) % PTRS_PER_TABLE);
  const last = first + (end - start) / PAGE_SIZE;
  mm.ptl.lock();
  for (let slot = first; slot < last; slot++) {
    const bits = pt.bits[slot]!;
    const kind = pteKind(bits);
    const pfn = pt.pfn[slot]!;
    if (kind === PteKind.SWAP) {
      memory.swap.put(pfn);
      pt.bits[slot] = 0;
      pt.pfn[slot] = 0;
      continue;
    }
    if (kind !== PteKind.PRESENT || bits & PTE_SPECIAL) continue;
    if (!(memory.flags[pfn]! & PG_ANON) || memory.mapcount[pfn] !== 1) continue;
    pt.bits[slot] = bits & ~(PTE_DIRTY | PTE_YOUNG);
    memory.flags[pfn]! &= ~(PG_SWAPBACKED | PG_DIRTY);
  }
  mm.ptl.unlock();
  tlb.track(start, end);
}
