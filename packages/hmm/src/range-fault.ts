/**
 * hmm_range_fault() (mm/hmm.c): snapshot the CPU page table of [start, end) into hmm_pfns,
 * faulting pages in where the request asks for it.
 */
import { PAGE_SIZE, VM_FAULT_ERROR } from '@hmmkit/mm';
import { KernelError, mightSleep, trace } from '@hmmkit/runtime';
import { HmmWalk, WALK_DONE, WALK_FAULT } from './hmm-walk.js';
import { checkRange, type HmmRange } from './range.js';

/**
 * Fills `range.hmmPfns` with the CPU mapping of [start, end), faulting pages in where
 * `(input & pfnFlagsMask) | defaultFlags` asks for it. Mirrors hmm_range_fault().
 *
 * **Details**: restarts its walk internally after every fault or migration wait (from the
 * first page not yet reported); entries below the restart point keep their outputs.
 * Device-private pages of `devPrivateOwner` are reported (VALID, WRITE if writable) and never
 * faulted; other owners' pages are faulted, which runs their migrateToRam(). Never takes a
 * page reference: outputs are valid only until the next invalidation.
 *
 * **Locking**: the caller holds the mmap_lock of `range.notifier.mm` (read is enough;
 * asserted) and no spinlock. May sleep (faults, migration waits). Never call it from an
 * invalidation callback.
 *
 * @throws KernelError EBUSY when `notifier.checkRetry(notifierSeq)` says an invalidation
 * collided (the caller restarts from readBegin()); EFAULT when a page asked for cannot be
 * made valid (no VMA, VM_IO/VM_PFNMAP/unreadable VMA, special PTE, a failed fault);
 * EPERM for a write request in a VMA without VM_WRITE; EINVAL for a bad range (unaligned,
 * end <= start, hmmPfns too short, bad flag bits); EOPNOTSUPP for hugetlb VMAs.
 *
 * @example
 * range.notifierSeq = await sub.readBegin();
 * await mm.mmapLock.downRead();
 * try { await hmmRangeFault(range); } finally { mm.mmapLock.upRead(); }
 */
export async function hmmRangeFault(range: HmmRange): Promise<void> {
  const mm = checkRange(range);
  mm.mmapLock.assertHeld();
  mightSleep('hmm_range_fault');
  const walk = new HmmWalk(mm, range);
  for (;;) {
    if (range.notifier.checkRetry(range.notifierSeq))
      throw new KernelError('EBUSY', `range [${range.start}, ${range.end}) was invalidated`);
    const r = walk.walk();
    if (r === WALK_DONE) return;
    if (r === WALK_FAULT) await faultRange(walk);
    else await migrationEntryWait(walk);
  }
}

/** The handle_mm_fault() loop of hmm_vma_fault(); -EFAULT on any VM_FAULT_ERROR. */
async function faultRange(walk: HmmWalk): Promise<void> {
  const { mm, faultStart, faultEnd, faultFlags } = walk;
  trace('hmm', 'fault', { start: faultStart, end: faultEnd, flags: faultFlags });
  for (let addr = faultStart; addr < faultEnd; addr += PAGE_SIZE) {
    const ret = await mm.handleMmFault(addr, faultFlags);
    if (ret & VM_FAULT_ERROR)
      throw new KernelError('EFAULT', `handle_mm_fault at ${addr} failed with ${ret}`);
  }
}

/** migration_entry_wait(): sleep until the entry changes or the page is unlocked. */
async function migrationEntryWait(walk: HmmWalk): Promise<void> {
  const { mm, last, waitBits, waitPfn } = walk;
  const { pt, memory } = mm;
  trace('hmm', 'migration_wait', { addr: last, pfn: waitPfn });
  await memory.pageWait.waitEvent(() => {
    const slot = pt.pteSlot(last, false);
    return slot < 0 || pt.bits[slot] !== waitBits || pt.pfn[slot] !== waitPfn
      ? true
      : memory.isUnlocked(waitPfn);
  });
}
