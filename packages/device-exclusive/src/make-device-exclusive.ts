/**
 * make_device_exclusive() (mm/rmap.c, v6.15+): one page, one PTE.
 *
 *   driver (holds mmap_lock read)            CPU / other device
 *   ------------------------------           -------------------------------
 *   GUP write fault: COW broken, an          (a fault here just re-populates
 *     earlier exclusive entry restored         the PTE; the re-check retries)
 *   folio_lock()
 *   invalidate_range_start(EXCLUSIVE,
 *     [addr, addr + 4096), owner)            the owner's notifier skips it,
 *                                              every other mirror drops the page
 *   PTL: same page, PTE-mapped, writable?
 *     no  -> end, unlock, put, retry
 *     yes -> ptep_clear_flush, dirty to the folio, exclusive entry (pfn, soft-dirty)
 *   invalidate_range_end()
 *   return the page locked + referenced      a CPU fault sleeps on the page lock
 *                                              until the driver unlocks it
 *
 * The mapcount is left alone: the entry still counts as a mapping (since v6.15).
 */
import {
  FOLL_GET,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  type Mm,
  PAGE_SIZE,
  PG_ANON,
  PG_DIRTY,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PteKind,
  ptepClearFlush,
  setPteAt,
  swpBits,
} from '@hmmkit/mm';
import { MmuNotifierEvent, type MmuNotifierRange } from '@hmmkit/mmu-notifier';
import { KernelError, trace } from '@hmmkit/runtime';
import { DeviceExclusivePage } from './exclusive-page.js';
import { installDeviceExclusiveOps } from './remove-exclusive-entry.js';
import { checkAddress, checkMm } from './validate.js';
import { entryAt } from './walker-cache.js';

/**
 * Replaces the PTE mapping `addr` with a device-exclusive entry so that only the device can
 * access the page; returns it locked and referenced. Mirrors make_device_exclusive().
 *
 * **Details**: `addr` is rounded down to its page (PAGE_ALIGN_DOWN). The page is faulted in
 * writable first (a PMD-mapped THP split to PTEs; COW broken; if another device held it
 * exclusively, that entry is restored, which that device sees as an MMU_NOTIFY_CLEAR
 * invalidation). Then one MMU_NOTIFY_EXCLUSIVE invalidation over the page carries `owner`, so
 * the caller's own notifier can recognise and skip it: a notifier that bumps its sequence for
 * it makes a read_begin-first retry loop retry forever. If the PTE changed meanwhile the whole
 * sequence is retried.
 *
 * **Locking**: the caller holds `mm.mmapLock` for read (asserted); takes the page lock and
 * the PTL; may sleep. Not from an invalidation callback.
 *
 * @throws RuntimeViolation `assertion` when the mmap_lock is not held.
 * @throws KernelError EINVAL (bad mm or addr), EFAULT (no VMA, VMA not writable, fault
 * failed), EOPNOTSUPP (not an anonymous page: shared or file-backed page cache; hugetlb),
 * ENOMEM (no page to fault in or copy).
 * @example
 * await mm.mmapLock.downRead();
 * const page = await makeDeviceExclusive(mm, addr, device);
 * mm.mmapLock.upRead();
 * deviceMapAtomic(page.pfn); // under the device lock, after its notifier sequence check
 * page.unlock();
 * page.put();
 */
export async function makeDeviceExclusive(
  mm: Mm,
  addr: number,
  owner: unknown,
): Promise<DeviceExclusivePage> {
  checkMm(mm);
  checkAddress('addr', addr);
  mm.mmapLock.assertHeld();
  installDeviceExclusiveOps(mm.memory);
  const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  for (;;) {
    const pfn = await getUserPageWriteLocked(mm, start);
    rejectUnsupported(mm, pfn, start);
    await mm.memory.lockPage(pfn);
    const range = await mm.invalidateStart(
      MmuNotifierEvent.EXCLUSIVE,
      start,
      start + PAGE_SIZE,
      owner,
    );
    if (await convertLocked(mm, start, pfn, range)) {
      trace('device-exclusive', 'make', { mm: mm.id, address: start, pfn });
      return new DeviceExclusivePage(mm, start, pfn);
    }
    trace('device-exclusive', 'retry', { mm: mm.id, address: start, pfn });
    mm.memory.unlockPage(pfn);
    mm.memory.putPage(pfn);
  }
}

/**
 * get_user_page_vma_remote(mm, addr, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD) with the
 * mmap_lock held: the page faulted in writable (COW broken, an exclusive entry restored, a
 * PMD-mapped THP split) and its pfn with a reference. The reference passes to the caller,
 * which drops it with putPage() like the kernel's folio_put(); the PageRef wrapper is
 * not kept.
 */
async function getUserPageWriteLocked(mm: Mm, addr: number): Promise<number> {
  const [ref] = await mm.getUserPagesLocked(addr, 1, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD);
  return ref!.pfn;
}

/**
 * Only anonymous folios; on failure the GUP reference is dropped. Hugetlb VMAs were already
 * refused by the GUP (FOLL_SPLIT_PMD), and @hmmkit/mm has no hugetlb folios to test here.
 */
function rejectUnsupported(mm: Mm, pfn: number, addr: number): void {
  if (mm.memory.flags[pfn]! & PG_ANON) return;
  mm.memory.putPage(pfn);
  throw new KernelError('EOPNOTSUPP', `page at ${addr} is not an anonymous page`);
}

/**
 * The second walk and the conversion, under the PTL; ends the notifier range either way.
 * Returns false when the PTE no longer maps `pfn` writable (the caller retries).
 */
async function convertLocked(
  mm: Mm,
  addr: number,
  pfn: number,
  range: MmuNotifierRange,
): Promise<boolean> {
  mm.ptl.lock();
  const w = entryAt(mm, addr);
  const same = w.kind === PteKind.PRESENT && w.pfn === pfn && w.order === 0 && w.writable;
  if (same) {
    const old = ptepClearFlush(mm, addr);
    if (old & PTE_DIRTY) mm.memory.flags[pfn]! |= PG_DIRTY;
    setPteAt(mm, addr, pfn, swpBits(PteKind.DEVICE_EXCLUSIVE, false, (old & PTE_SOFT_DIRTY) !== 0));
  }
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
  return same;
}
