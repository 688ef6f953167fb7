/**
 * NUMA hinting (change_prot_numa from task_numa_work, mm/mprotect.c and kernel/sched/fair.c):
 * present PTEs of accessible VMAs become PROT_NONE hints under MMU_NOTIFY_PROTECTION_VMA;
 * the next access takes a NUMA hinting fault (do_numa_page), which only restores the PTE
 * (placement is not modelled). hmm_range_fault treats such entries as needing a fault.
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  PAGE_SIZE,
  PMD_SIZE,
  VM_EXEC,
  VM_HUGETLB,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
} from './constants.js';
import type { Mm } from './mm.js';
import { MmuGather } from './mmu-gather.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { PTE_PRESENT, PTE_PROTNONE, PTE_SPECIAL } from './pte.js';
import { hugePmdSlot } from './thp.js';
import { checkAlive, checkInteger, isPageAligned, pageAlign } from './validate.js';
import { pmdEnd } from './zap.js';

const SKIP = VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB;

/**
 * Turns the present PTEs of [addr, addr + length) into NUMA hinting entries. Mirrors
 * change_prot_numa(). Holes and inaccessible or special VMAs are skipped, as
 * task_numa_work skips them.
 * **Locking**: takes the mmap_lock for read; may sleep in the notifier calls.
 * @throws KernelError EINVAL on an unaligned or negative range; ESRCH after exit().
 */
export async function changeProtNuma(mm: Mm, addr: number, length: number): Promise<void> {
  checkAlive(mm);
  checkInteger('addr', addr);
  checkInteger('length', length);
  if (addr < 0 || !isPageAligned(addr) || length < 0)
    throw new KernelError('EINVAL', `bad range [${addr}, +${length})`);
  const end = addr + pageAlign(length);
  await mm.mmapLock.downRead();
  try {
    for (const v of [...mm.vmas]) {
      if (v.end <= addr || v.start >= end) continue;
      if (v.flags & SKIP || !(v.flags & (VM_READ | VM_WRITE | VM_EXEC))) continue;
      await hintRange(mm, Math.max(addr, v.start), Math.min(end, v.end));
    }
  } finally {
    mm.mmapLock.upRead();
  }
}

async function hintRange(mm: Mm, start: number, end: number): Promise<void> {
  let first = -1;
  for (let a = start; a < end && first < 0; a = Math.floor(a / PMD_SIZE) * PMD_SIZE + PMD_SIZE) {
    const skip = mm.pt.skipAbsent(a);
    if (skip > a) a = skip - PMD_SIZE;
    else if (mm.pt.pteBase(a, false) !== -1) first = Math.max(a, start);
  }
  if (first < 0) return;
  const tlb = new MmuGather(mm);
  const range = await mm.invalidateStart(MmuNotifierEvent.PROTECTION_VMA, first, end);
  for (let a = first; a < end; ) {
    const skip = mm.pt.skipAbsent(a);
    if (skip > a) {
      a = skip;
      continue;
    }
    const next = Math.min(end, pmdEnd(a));
    const base = mm.pt.pteBase(a, false);
    const hpmd = base === -2 && next - a === PMD_SIZE ? hugePmdSlot(mm, a) : -1;
    if (hpmd >= 0 && !(mm.pt.bits[hpmd]! & PTE_PROTNONE)) {
      mm.pt.bits[hpmd]! |= PTE_PROTNONE;
      tlb.track(a, next);
    } else if (base >= 0) {
      const s = base + (Math.floor(a / PAGE_SIZE) % PTRS_PER_TABLE);
      mm.ptl.lock();
      for (let slot = s; slot < s + (next - a) / PAGE_SIZE; slot++) {
        const bits = mm.pt.bits[slot]!;
        if (bits & PTE_PRESENT && !(bits & (PTE_SPECIAL | PTE_PROTNONE)))
          mm.pt.bits[slot] = bits | PTE_PROTNONE;
      }
      mm.ptl.unlock();
      tlb.track(a, next);
    }
    a = next;
  }
  await mm.notifiers.invalidateRangeEnd(range);
  tlb.finish();
}
