/**
 * The page-fault handler: handle_mm_fault → handle_pte_fault (mm/memory.c) with
 * do_anonymous_page (zero page or new anon page), do_fault (tmpfs read / shared / COW
 * fault), do_wp_page (reuse or wp_page_copy), do_swap_page (swap-in, migration-entry wait,
 * device-private migrate_to_ram hook, device-exclusive restore hook) and do_numa_page.
 *
 * Locking: the caller holds the mmap_lock for read; entries are re-checked under the PTL
 * before they are changed (pte_same), since reclaim and migration change them without the
 * mmap_lock. Only wp_page_copy sends a notifier (MMU_NOTIFY_CLEAR on one page): start, PTE
 * cleared and flushed (archInvalidateSecondaryTlbs), new PTE set, end, old page put.
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { trace } from '@hmmkit/runtime';
import { addNewAnonRmap, anonVmaPrepare } from './anon.js';
import {
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  VM_FAULT_MAJOR,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_HUGETLB,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { hugetlbFault } from './hugetlb.js';
import { FILE_EOF } from './mem-file.js';
import type { Mm } from './mm.js';
import { PG_ANON, PG_ANON_EXCLUSIVE } from './page-flags.js';
import { ZERO_PFN } from './physical-memory.js';
import {
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
} from './pte.js';
import { doHugeAnonymousPage, hugeAllowed, hugePmdFault, hugePmdSlot } from './thp.js';
import { checkInteger } from './validate.js';
import type { VmFault } from './vm-fault.js';
import type { Vma } from './vma.js';

/**
 * handle_mm_fault() after the caller's VMA lookup and access check; `force` skips the
 * access check (GUP with FOLL_FORCE, which checked VM_MAY* itself).
 */
export async function handleMmFault(
  mm: Mm,
  addr: number,
  flags: number,
  force = false,
): Promise<number> {
  mm.mmapLock.assertHeld();
  checkInteger('addr', addr);
  checkInteger('flags', flags);
  trace('mm', 'handle_mm_fault', { mm: mm.id, addr, flags });
  const vma = mm.vmaLookup(addr);
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (vma === undefined || !(force || vma.permits(write))) return VM_FAULT_SIGSEGV;
  return handlePteFault(mm, vma, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, flags);
}

async function handlePteFault(mm: Mm, vma: Vma, addr: number, flags: number): Promise<number> {
  if (vma.flags & VM_HUGETLB) return hugetlbFault(mm, vma, addr, flags);
  if (hugePmdSlot(mm, addr) >= 0) return hugePmdFault(mm, addr, flags);
  if (flags & FAULT_FLAG_WRITE && hugeAllowed(vma, addr) && !doHugeAnonymousPage(mm, vma, addr))
    return 0;
  const slot = mm.pt.pteSlot(addr, true);
  if (slot < 0) return VM_FAULT_SIGBUS; // a PMD leaf: THP faults are not modelled
  const bits = mm.pt.bits[slot]!;
  const pfn = mm.pt.pfn[slot]!;
  switch (pteKind(bits)) {
    case PteKind.NONE:
      if (vma.flags & (VM_PFNMAP | VM_MIXEDMAP)) return VM_FAULT_SIGBUS;
      return vma.isAnonymous
        ? doAnonymousPage(mm, vma, addr, slot, flags)
        : doFault(mm, vma, addr, slot, flags);
    case PteKind.PRESENT:
      if (bits & PTE_PROTNONE) return doNumaPage(mm, slot, bits);
      if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !(bits & PTE_WRITE))
        return doWpPage(mm, vma, addr, slot, flags);
      mm.ptl.lock();
      if (mm.pt.bits[slot] === bits)
        mm.pt.bits[slot] = bits | PTE_YOUNG | (flags & FAULT_FLAG_WRITE ? PTE_DIRTY : 0);
      mm.ptl.unlock();
      return 0;
    default:
      return doSwapPage(mm, vma, addr, slot, flags, bits, pfn);
  }
}

function doAnonymousPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const { pt, memory } = mm;
  if (!(flags & FAULT_FLAG_WRITE)) {
    mm.ptl.lock();
    if (pt.bits[slot] === 0) setPte(mm, slot, ZERO_PFN, PTE_PRESENT | PTE_SPECIAL | PTE_YOUNG);
    mm.ptl.unlock();
    return 0;
  }
  anonVmaPrepare(mm, vma);
  const pfn = memory.allocPage();
  if (pfn < 0) return VM_FAULT_OOM;
  mm.ptl.lock();
  if (pt.bits[slot] !== 0) {
    mm.ptl.unlock();
    memory.putPage(pfn);
    return 0;
  }
  addNewAnonRmap(mm, vma, pfn, addr);
  setPte(mm, slot, pfn, anonPteBits(vma));
  mm.ptl.unlock();
  return 0;
}

/** Bits of a freshly written private anon PTE (maybe_mkwrite(pte_mkdirty(...))). */
function anonPteBits(vma: Vma): number {
  return PTE_PRESENT | PTE_YOUNG | PTE_DIRTY | (vma.flags & VM_WRITE ? PTE_WRITE : 0);
}

function setPte(mm: Mm, slot: number, pfn: number, bits: number): void {
  mm.pt.pfn[slot] = pfn;
  mm.pt.bits[slot] = bits;
}

/** do_read_fault / do_shared_fault / do_cow_fault on a tmpfs-backed VMA. */
function doFault(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const memory = mm.memory;
  const cache = vma.file!.pageAt(vma.pgoffOf(addr));
  if (cache === FILE_EOF) return VM_FAULT_SIGBUS;
  if (cache < 0) return VM_FAULT_OOM;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  const shared = (vma.flags & VM_SHARED) !== 0;
  if (write && !shared) return doCowFault(mm, vma, addr, slot, cache);
  mm.ptl.lock();
  if (mm.pt.bits[slot] === 0) {
    memory.getPage(cache);
    memory.mapcount[cache]!++;
    const writable = shared && vma.flags & VM_WRITE ? PTE_WRITE : 0;
    setPte(mm, slot, cache, PTE_PRESENT | PTE_YOUNG | writable | (write ? PTE_DIRTY : 0));
  }
  mm.ptl.unlock();
  return 0;
}

function doCowFault(mm: Mm, vma: Vma, addr: number, slot: number, cache: number): number {
  const memory = mm.memory;
  anonVmaPrepare(mm, vma);
  const pfn = memory.allocPage();
  if (pfn < 0) return VM_FAULT_OOM;
  memory.copyPage(pfn, cache);
  mm.ptl.lock();
  if (mm.pt.bits[slot] !== 0) {
    mm.ptl.unlock();
    memory.putPage(pfn);
    return 0;
  }
  addNewAnonRmap(mm, vma, pfn, addr);
  setPte(mm, slot, pfn, anonPteBits(vma));
  mm.ptl.unlock();
  return 0;
}

function doNumaPage(mm: Mm, slot: number, bits: number): number {
  mm.ptl.lock();
  if (mm.pt.bits[slot] === bits) mm.pt.bits[slot] = (bits & ~PTE_PROTNONE) | PTE_YOUNG;
  mm.ptl.unlock();
  return 0;
}

/** do_wp_page(): reuse the page when it is ours alone, copy it otherwise. */
async function doWpPage(
  mm: Mm,
  vma: Vma,
  addr: number,
  slot: number,
  flags: number,
): Promise<number> {
  const { pt, memory } = mm;
  const bits = pt.bits[slot]!;
  const pfn = pt.pfn[slot]!;
  const unshare = (flags & FAULT_FLAG_WRITE) === 0;
  if (vma.flags & VM_SHARED) return unshare ? 0 : wpPageReuse(mm, slot, bits);
  if (bits & PTE_SPECIAL) {
    if (pfn !== ZERO_PFN) return VM_FAULT_SIGBUS;
    return unshare ? 0 : wpPageCopy(mm, vma, addr, slot, flags);
  }
  if (memory.flags[pfn]! & PG_ANON) {
    if (memory.flags[pfn]! & PG_ANON_EXCLUSIVE) return unshare ? 0 : wpPageReuse(mm, slot, bits);
    if (memory.refcount[pfn] === 1 && memory.mapcount[pfn] === 1) {
      memory.flags[pfn]! |= PG_ANON_EXCLUSIVE;
      return unshare ? 0 : wpPageReuse(mm, slot, bits);
    }
  }
  return wpPageCopy(mm, vma, addr, slot, flags);
}

function wpPageReuse(mm: Mm, slot: number, bits: number): number {
  mm.ptl.lock();
  if (mm.pt.bits[slot] === bits) mm.pt.bits[slot] = bits | PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
  mm.ptl.unlock();
  return 0;
}

/** wp_page_copy(): new anon page, MMU_NOTIFY_CLEAR over the page, swap PTEs, put the old. */
async function wpPageCopy(
  mm: Mm,
  vma: Vma,
  addr: number,
  slot: number,
  flags: number,
): Promise<number> {
  const { pt, memory } = mm;
  const oldBits = pt.bits[slot]!;
  const old = pt.pfn[slot]!;
  const zero = old === ZERO_PFN;
  anonVmaPrepare(mm, vma);
  const pfn = memory.allocPage();
  if (pfn < 0) return VM_FAULT_OOM;
  if (!zero) {
    memory.getPage(old); // vmf->page reference, dropped after the notifier end
    memory.copyPage(pfn, old);
  }
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, addr, addr + PAGE_SIZE);
  mm.ptl.lock();
  const same = pt.bits[slot] === oldBits && pt.pfn[slot] === old;
  if (same) {
    pt.bits[slot] = 0; // ptep_clear_flush
    mm.notifiers.archInvalidateSecondaryTlbs(addr, addr + PAGE_SIZE);
    addNewAnonRmap(mm, vma, pfn, addr);
    const write = flags & FAULT_FLAG_WRITE ? PTE_WRITE & anonPteBits(vma) : 0;
    setPte(mm, slot, pfn, PTE_PRESENT | PTE_YOUNG | PTE_DIRTY | write);
    if (!zero) memory.mapcount[old]!--;
  }
  mm.ptl.unlock();
  if (!same) memory.putPage(pfn);
  else if (!zero) memory.putPage(old); // the old PTE's reference
  await mm.notifiers.invalidateRangeEnd(range);
  if (!zero) memory.putPage(old);
  return 0;
}

/** do_swap_page(): every non-present entry kind. */
async function doSwapPage(
  mm: Mm,
  vma: Vma,
  addr: number,
  slot: number,
  flags: number,
  bits: number,
  pfn: number,
): Promise<number> {
  const memory = mm.memory;
  const kind = pteKind(bits);
  if (kind === PteKind.SWAP) return swapIn(mm, vma, addr, slot, flags, bits, pfn);
  if (kind === PteKind.MIGRATION) {
    await memory.pageWait.waitEvent(
      () => mm.pt.bits[slot] !== bits || mm.pt.pfn[slot] !== pfn || memory.isUnlocked(pfn),
    );
    return 0;
  }
  const vmf: VmFault = { mm, vma, address: addr, flags, kind, pfn, bits };
  if (kind === PteKind.DEVICE_EXCLUSIVE) {
    const ops = memory.deviceExclusiveOps;
    return ops === undefined ? VM_FAULT_SIGBUS : ops.restoreExclusive(vmf);
  }
  const migrateToRam = memory.pagemapOf(pfn)?.ops.migrateToRam;
  if (migrateToRam === undefined) return VM_FAULT_SIGBUS;
  if (!(await lockDevicePrivate(mm, slot, bits, pfn))) return 0;
  try {
    return await migrateToRam(vmf);
  } finally {
    memory.unlockPage(pfn);
    memory.putPage(pfn);
  }
}

/**
 * do_swap_page() before migrate_to_ram() (v6.15+): under the PTL, if the entry is unchanged
 * and the device page can be trylocked, take a reference and return true with the page
 * locked; the hook runs with it locked, so two CPUs faulting on the same page cannot both
 * migrate it. Otherwise false, and the access faults again. The kernel just returns; here a
 * lost trylock sleeps until the entry changes or the page is unlocked, as the
 * migration-entry case does, so the task holding the lock gets to run.
 */
async function lockDevicePrivate(
  mm: Mm,
  slot: number,
  bits: number,
  pfn: number,
): Promise<boolean> {
  const memory = mm.memory;
  const same = () => mm.pt.bits[slot] === bits && mm.pt.pfn[slot] === pfn;
  mm.ptl.lock();
  const locked = same() && memory.trylockPage(pfn);
  // The entry holds a reference, so the page cannot be freed while the PTL is held.
  if (locked) memory.getPage(pfn);
  mm.ptl.unlock();
  if (!locked && same()) await memory.pageWait.waitEvent(() => !same() || memory.isUnlocked(pfn));
  return locked;
}

/**
 * Swap-in without a swap cache: the contents are read into a new page that is exclusive to
 * this mapping (a swap entry shared after fork is read once per mapping).
 */
function swapIn(
  mm: Mm,
  vma: Vma,
  addr: number,
  slot: number,
  flags: number,
  bits: number,
  swapSlot: number,
): number {
  const memory = mm.memory;
  anonVmaPrepare(mm, vma);
  const pfn = memory.allocPage();
  if (pfn < 0) return VM_FAULT_OOM;
  const data = memory.swap.read(swapSlot);
  memory.contents[pfn] = data === undefined ? undefined : data.slice();
  mm.ptl.lock();
  if (mm.pt.bits[slot] !== bits || mm.pt.pfn[slot] !== swapSlot) {
    mm.ptl.unlock();
    memory.putPage(pfn);
    return 0;
  }
  addNewAnonRmap(mm, vma, pfn, addr);
  const write = flags & FAULT_FLAG_WRITE ? anonPteBits(vma) : PTE_PRESENT | PTE_YOUNG;
  setPte(mm, slot, pfn, write | (bits & PTE_SOFT_DIRTY));
  memory.swap.put(swapSlot);
  mm.ptl.unlock();
  return VM_FAULT_MAJOR;
}
