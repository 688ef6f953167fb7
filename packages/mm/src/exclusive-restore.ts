/**
 * restore_exclusive_pte() (mm/memory.c): turns a device-exclusive entry back into a present
 * PTE for the same page. Used by fork (copy_nonpresent_pte) and exported for the
 * @hmmkit/device-exclusive fault hook, which owns the notifier and page-lock protocol
 * around it.
 */
import { KernelError } from '@hmmkit/runtime';
import { VM_EXEC, VM_READ, VM_WRITE } from './constants.js';
import type { Mm } from './mm.js';
import { PG_ANON_EXCLUSIVE, PG_DIRTY } from './page-flags.js';
import {
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SOFT_DIRTY,
  PTE_WRITE,
  PteKind,
  pteKind,
} from './pte.js';

/**
 * Replaces the device-exclusive entry at `addr` with a present PTE of the same page, built
 * from the VMA's protection (PTE_PROTNONE in a PROT_NONE VMA), marked old, writable (and
 * dirty if the page is) only when the VMA has VM_WRITE and the page is anon-exclusive
 * (can_change_pte_writable). The mapcount is unchanged: the entry counted
 * as a mapping. Mirrors restore_exclusive_pte().
 *
 * **Locking**: the caller holds `mm.ptl` and the page lock; never sleeps.
 * @throws KernelError EINVAL when the entry at `addr` is not device-exclusive.
 */
export function restoreExclusivePteLocked(mm: Mm, addr: number): void {
  mm.ptl.assertHeld();
  const slot = mm.pt.pteSlot(addr, false);
  const bits = slot >= 0 ? mm.pt.bits[slot]! : 0;
  if (pteKind(bits) !== PteKind.DEVICE_EXCLUSIVE)
    throw new KernelError('EINVAL', `no device-exclusive entry at ${addr}`);
  const pfn = mm.pt.pfn[slot]!;
  const vma = mm.vmaLookup(addr);
  const f = mm.memory.flags[pfn]!;
  const vmFlags = vma?.flags ?? 0;
  let next = PTE_PRESENT | (bits & PTE_SOFT_DIRTY);
  // The PTE is built from vm_page_prot: an mprotect(PROT_NONE) that left the entry alone
  // still applies once it is present again.
  if (!(vmFlags & (VM_READ | VM_WRITE | VM_EXEC))) next |= PTE_PROTNONE;
  else if (vmFlags & VM_WRITE && f & PG_ANON_EXCLUSIVE)
    next |= PTE_WRITE | (f & PG_DIRTY ? PTE_DIRTY : 0);
  mm.pt.bits[slot] = next;
}
