/**
 * mprotect(): do_mprotect_pkey / mprotect_fixup / change_protection (mm/mprotect.c).
 * VMAs whose flags change are split at the range edges; their PTEs are rewritten under one
 * MMU_NOTIFY_PROTECTION_VMA range starting at the first populated PMD (no notifier when the
 * VMA has no page tables in the range, as change_pmd_range). TLBs are flushed after the
 * notifier end (tlb_finish_mmu). A VMA whose flags do not change is left alone.
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  PAGE_SIZE,
  PMD_SIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_EXEC,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import type { Mm } from './mm.js';
import { protToVmFlags, splitVma } from './mmap.js';
import { MmuGather } from './mmu-gather.js';
import { PG_ANON_EXCLUSIVE } from './page-flags.js';
import { PTRS_PER_TABLE } from './page-table.js';
import { PTE_PRESENT, PTE_PROTNONE, PTE_SPECIAL, PTE_WRITE, SWP_WRITE } from './pte.js';
import { changeHugePmd } from './thp.js';
import { checkAlive, checkInteger, isPageAligned, pageAlign } from './validate.js';
import type { Vma } from './vma.js';
import { pmdEnd } from './zap.js';

const PROT_SEM = 0x8;
const VM_ACCESS = VM_READ | VM_WRITE | VM_EXEC;

/** do_mprotect_pkey(): the body of Mm.mprotect(). */
export async function mprotect(mm: Mm, start: number, length: number, prot: number): Promise<void> {
  checkAlive(mm);
  checkInteger('addr', start);
  checkInteger('length', length);
  checkInteger('prot', prot);
  if (start < 0 || !isPageAligned(start))
    throw new KernelError('EINVAL', `addr must be page aligned, got ${start}`);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) || prot < 0)
    throw new KernelError('EINVAL', `prot ${prot} has unknown bits`);
  if (length < 0) throw new KernelError('EINVAL', `length must be >= 0, got ${length}`);
  if (length === 0) return;
  const end = start + pageAlign(length);
  await mm.mmapLock.downWrite();
  try {
    await applyProtection(mm, start, end, protToVmFlags(prot));
  } finally {
    mm.mmapLock.upWrite();
  }
}

async function applyProtection(mm: Mm, start: number, end: number, access: number): Promise<void> {
  let nstart = start;
  for (;;) {
    const v = mm.findVma(nstart);
    if (v === undefined || v.start > nstart)
      throw new KernelError('ENOMEM', `[${nstart}, ${end}) is not mapped`);
    const newflags = (v.flags & ~VM_ACCESS) | access;
    if (newflags & ~(newflags >> 4) & VM_ACCESS)
      throw new KernelError('EACCES', `prot exceeds what the mapping at ${v.start} allows`);
    const tmp = Math.min(v.end, end);
    if (newflags !== v.flags) await mprotectFixup(mm, nstart, tmp, newflags);
    nstart = tmp;
    if (nstart >= end) return;
  }
}

async function mprotectFixup(mm: Mm, start: number, end: number, newflags: number): Promise<void> {
  await splitVma(mm, start);
  await splitVma(mm, end);
  const vma = mm.vmaLookup(start)!;
  vma.flags = newflags;
  const first = firstPopulatedPmd(mm, start, end);
  if (first < 0) return;
  const tlb = new MmuGather(mm);
  const range = await mm.invalidateStart(MmuNotifierEvent.PROTECTION_VMA, first, end);
  for (let addr = first; addr < end; ) {
    const skip = mm.pt.skipAbsent(addr);
    if (skip > addr) {
      addr = skip;
      continue;
    }
    const next = Math.min(end, pmdEnd(addr));
    const base = mm.pt.pteBase(addr, false);
    if (base === -2) {
      changeHugePmd(mm, addr, vma.flags, (vma.flags & VM_ACCESS) === 0);
      tlb.track(addr, next);
    } else if (base >= 0) changePtes(mm, vma, base, addr, next, tlb);
    addr = next;
  }
  await mm.notifiers.invalidateRangeEnd(range);
  tlb.finish();
}

/** Start of the first PMD span of [start, end) with a PTE table, clamped to start; -1 if none. */
function firstPopulatedPmd(mm: Mm, start: number, end: number): number {
  for (let addr = start; addr < end; ) {
    const skip = mm.pt.skipAbsent(addr);
    if (skip > addr) {
      addr = skip;
      continue;
    }
    if (mm.pt.pteBase(addr, false) !== -1) return addr;
    addr = Math.floor(addr / PMD_SIZE) * PMD_SIZE + PMD_SIZE;
  }
  return -1;
}

/** change_pte_range(): present PTEs get the VMA's protection, writable swap-like entries lose write. */
function changePtes(
  mm: Mm,
  vma: Vma,
  base: number,
  start: number,
  end: number,
  tlb: MmuGather,
): void {
  const { pt, memory } = mm;
  const none = (vma.flags & VM_ACCESS) === 0;
  const canWrite = (vma.flags & VM_WRITE) !== 0;
  const shared = (vma.flags & VM_SHARED) !== 0;
  const first = base + (Math.floor(start / PAGE_SIZE) % PTRS_PER_TABLE);
  const last = first + (end - start) / PAGE_SIZE;
  mm.ptl.lock();
  for (let slot = first; slot < last; slot++) {
    const bits = pt.bits[slot]!;
    if (bits === 0) continue;
    if (!(bits & PTE_PRESENT)) {
      if (!canWrite && bits & SWP_WRITE) pt.bits[slot] = bits & ~SWP_WRITE;
      continue;
    }
    let next = bits & ~(PTE_WRITE | PTE_PROTNONE);
    if (none) next |= PTE_PROTNONE;
    else if (canWrite && (shared || exclusiveAnon(memory.flags, bits, pt.pfn[slot]!)))
      next |= PTE_WRITE;
    pt.bits[slot] = next;
  }
  mm.ptl.unlock();
  tlb.track(start, end);
}

/** can_change_pte_writable() for a private mapping: an anon-exclusive page. */
function exclusiveAnon(flags: Uint32Array, bits: number, pfn: number): boolean {
  return !(bits & PTE_SPECIAL) && (flags[pfn]! & PG_ANON_EXCLUSIVE) !== 0;
}
