/**
 * Low-level entry changes under the PTL, for @hmmkit/hmm (migrate_vma) and
 * @hmmkit/device-exclusive (make_device_exclusive). They change the entry and flush; the
 * caller owns everything around it, as in the kernel: the notifier range (started before,
 * ended after), page references and mapcounts (PhysicalMemory.refcount / mapcount), the
 * page lock, and rmap fields of new pages (mapping / index).
 */
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE } from './constants.js';
import type { Mm } from './mm.js';
import { PteKind, pteKind } from './pte.js';

/** Slot of the entry at `addr`, allocating page tables when `alloc`. */
function slotOf(mm: Mm, addr: number, alloc: boolean): number {
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `addr must be a page-aligned address, got ${addr}`);
  const slot = mm.pt.pteSlot(addr, alloc);
  if (slot === -2) throw new KernelError('EOPNOTSUPP', `addr ${addr} is inside a PMD leaf`);
  return slot;
}

/**
 * Clears the entry at `addr` and flushes the TLBs for that page (ptep_clear_flush, which
 * calls archInvalidateSecondaryTlbs). Returns the old bits (0 if none); the old payload is
 * readable beforehand through PageTableWalker.
 * **Locking**: `mm.ptl` held; never sleeps.
 */
export function ptepClearFlush(mm: Mm, addr: number): number {
  mm.ptl.assertHeld();
  const slot = slotOf(mm, addr, false);
  if (slot < 0) return 0;
  const old = mm.pt.bits[slot]!;
  mm.pt.bits[slot] = 0;
  mm.pt.pfn[slot] = 0;
  if (old !== 0) mm.notifiers.archInvalidateSecondaryTlbs(addr, addr + PAGE_SIZE);
  return old;
}

/**
 * Writes the entry at `addr` (set_pte_at): `bits` in the pte.ts layout (use swpBits() for
 * non-present entries), `pfn` the payload. Page tables are allocated if missing.
 * **Locking**: `mm.ptl` held and the mmap_lock held (read); never sleeps.
 */
export function setPteAt(mm: Mm, addr: number, pfn: number, bits: number): void {
  mm.ptl.assertHeld();
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffff)
    throw new KernelError('EINVAL', `bits must be a 16-bit entry, got ${bits}`);
  if (pteKind(bits) !== PteKind.SWAP && bits !== 0 && !mm.memory.validPfn(pfn))
    throw new KernelError('EINVAL', `pfn ${pfn} is not a known frame`);
  const slot = slotOf(mm, addr, true);
  mm.pt.pfn[slot] = pfn;
  mm.pt.bits[slot] = bits;
}
