/**
 * Reclaim of one anon page to swap (shrink_folio_list → add_to_swap → try_to_unmap →
 * try_to_unmap_one in mm/vmscan.c and mm/rmap.c). For each mapping found by rmap: a
 * one-page MMU_NOTIFY_CLEAR range is started, the PTE is cleared and flushed
 * (archInvalidateSecondaryTlbs) and replaced by a swap entry, the mapping and its page
 * reference are dropped, the range ends. Then the frame is freed. Device-exclusive entries
 * count as mappings (v6.15+): they become swap entries too, and the device learns it from
 * the CLEAR range.
 *
 * A lazily freed page (MADV_FREE, PG_SWAPBACKED clear) that is still clean is discarded:
 * its PTEs become none, so the next access reads zeros. If it was written again it is
 * marked swap-backed and kept, as the kernel does.
 *
 * Not reclaimed (returns false): pages that are not anon, locked, pinned or referenced
 * beyond their mappings (a GUP reference), device pages, free pages.
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { trace } from '@hmmkit/runtime';
import { PAGE_SIZE } from './constants.js';
import type { Mm } from './mm.js';
import { PG_ANON, PG_DIRTY, PG_HUGETLB, PG_SWAPBACKED, PG_ZONE_DEVICE } from './page-flags.js';
import { type PhysicalMemory, ZERO_PFN } from './physical-memory.js';
import { PTE_DIRTY, PTE_SOFT_DIRTY, PteKind, pteKind, swpBits } from './pte.js';
import { rmapWalk, splitPmdMappings } from './rmap.js';

/**
 * Reclaims anon page `pfn`: swaps it out (or discards a clean lazy-free page) and frees the
 * frame. Mirrors shrink_folio_list() for one folio. Returns whether the frame was freed.
 * **Locking**: takes the page lock (trylock: a locked page is skipped) and each mm's PTL;
 * may sleep in the notifier calls. No mmap_lock needed.
 */
export async function reclaimPage(memory: PhysicalMemory, pfn: number): Promise<boolean> {
  if (!memory.validPfn(pfn) || pfn === ZERO_PFN) return false;
  const f = memory.flags[pfn]!;
  if (!(f & PG_ANON) || f & (PG_ZONE_DEVICE | PG_HUGETLB) || memory.refcount[pfn]! <= 0)
    return false;
  if (memory.pincount[pfn]! > 0 || memory.refcount[pfn] !== memory.mapcount[pfn]) return false;
  if (!memory.trylockPage(pfn)) return false;
  trace('mm', 'reclaim_page', { pfn });
  memory.getPage(pfn); // isolation reference
  await splitPmdMappings(memory, pfn);
  if (memory.pincount[pfn]! > 0 || memory.refcount[pfn] !== memory.mapcount[pfn]! + 1) {
    memory.unlockPage(pfn);
    memory.putPage(pfn);
    return false;
  }
  const lazy = !(f & PG_SWAPBACKED);
  const slot = lazy ? 0 : memory.swap.alloc(memory.contents[pfn]?.slice());
  let kept = false;
  for (const hit of rmapWalk(memory, pfn)) {
    // A device-exclusive entry is a mapping since v6.15: swapped out like a present PTE.
    if (hit.kind !== PteKind.PRESENT && hit.kind !== PteKind.DEVICE_EXCLUSIVE) continue;
    if (!(await unmapOne(hit.mm, hit.address, pfn, slot))) kept = true;
  }
  if (slot !== 0) memory.swap.put(slot); // the swap cache's use
  memory.unlockPage(pfn);
  const freed = memory.refcount[pfn] === 1 && !kept;
  memory.putPage(pfn);
  return freed;
}

/**
 * try_to_unmap_one() for one present PTE or device-exclusive entry (non-present: cleared
 * without a flush; its dirty bit already went to the folio); false when a lazy-free page
 * turned out dirty.
 */
async function unmapOne(mm: Mm, address: number, pfn: number, slot: number): Promise<boolean> {
  const memory = mm.memory;
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, address, address + PAGE_SIZE);
  let ok = true;
  mm.ptl.lock();
  const s = mm.pt.pteSlot(address, false);
  const bits = s >= 0 ? mm.pt.bits[s]! : 0;
  const kind = pteKind(bits);
  if ((kind === PteKind.PRESENT || kind === PteKind.DEVICE_EXCLUSIVE) && mm.pt.pfn[s] === pfn) {
    if (slot === 0 && (bits & PTE_DIRTY || memory.flags[pfn]! & PG_DIRTY)) {
      memory.flags[pfn]! |= PG_SWAPBACKED;
      ok = false;
    } else {
      mm.pt.bits[s] = 0;
      if (kind === PteKind.PRESENT)
        mm.notifiers.archInvalidateSecondaryTlbs(address, address + PAGE_SIZE);
      if (slot !== 0) {
        memory.swap.dup(slot);
        mm.pt.pfn[s] = slot;
        mm.pt.bits[s] = swpBits(PteKind.SWAP, false, (bits & PTE_SOFT_DIRTY) !== 0);
      } else mm.pt.pfn[s] = 0;
      memory.mapcount[pfn]!--;
      memory.putPage(pfn);
    }
  }
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
  return ok;
}
