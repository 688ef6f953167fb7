/**
 * get_user_pages / pin_user_pages (mm/gup.c): __get_user_pages walks the range, follows each
 * PTE (follow_page_pte) and faults (faultin_page, FAULT_FLAG_REMOTE) when the entry does not
 * allow the access: FOLL_WRITE breaks COW; a FOLL_PIN on a shared anon page unshares it
 * first (gup_must_unshare); device-private entries fault through their migrate_to_ram hook.
 * FOLL_LONGTERM pins migrate device-coherent pages to RAM first
 * (check_and_migrate_movable_pages).
 */
import { KernelError } from '@hmmkit/runtime';
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_LONGTERM,
  FOLL_REMOTE,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  PAGE_SIZE,
  TASK_SIZE,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_HUGETLB,
  VM_IO,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { handleMmFault } from './fault.js';
import { migratePage } from './migrate.js';
import type { Mm } from './mm.js';
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_ZONE_DEVICE } from './page-flags.js';
import { ZERO_PFN } from './physical-memory.js';
import { PTE_PRESENT, PTE_PROTNONE, PTE_SPECIAL, PTE_WRITE } from './pte.js';
import { hugePmdSlot, leafPfn, leafSlot, splitHugePmd } from './thp.js';
import { faultError } from './uaccess.js';
import { checkAlive, checkInteger } from './validate.js';
import type { Vma } from './vma.js';

const VALID_FLAGS =
  FOLL_WRITE | FOLL_GET | FOLL_FORCE | FOLL_LONGTERM | FOLL_SPLIT_PMD | FOLL_REMOTE;

/**
 * A page reference returned by GUP. release() drops it exactly once: put_page() for
 * getUserPages(), unpin_user_page() for pinUserPages().
 */
export interface PageRef {
  readonly pfn: number;
  release(): void;
}

class GupRef implements PageRef {
  private live = true;
  constructor(
    private readonly mm: Mm,
    readonly pfn: number,
    private readonly pinned: boolean,
  ) {}

  release(): void {
    if (!this.live) throw new KernelError('EINVAL', `page ref to pfn ${this.pfn} already released`);
    this.live = false;
    if (this.pinned) this.mm.memory.unpinPage(this.pfn);
    else this.mm.memory.putPage(this.pfn);
  }
}

/** get_user_pages_remote(): the body of Mm.getUserPages(). */
export function getUserPages(mm: Mm, addr: number, npages: number, flags: number) {
  return gup(mm, addr, npages, flags, false, false);
}

/** get_user_pages_remote() proper: the caller already holds the mmap_lock. */
export function getUserPagesLocked(mm: Mm, addr: number, npages: number, flags: number) {
  return gup(mm, addr, npages, flags, false, true);
}

/** pin_user_pages_remote() proper: the caller already holds the mmap_lock. */
export function pinUserPagesLocked(mm: Mm, addr: number, npages: number, flags: number) {
  return gup(mm, addr, npages, flags, true, true);
}

/** pin_user_pages_remote(): the body of Mm.pinUserPages(). */
export function pinUserPages(mm: Mm, addr: number, npages: number, flags: number) {
  return gup(mm, addr, npages, flags, true, false);
}

async function gup(
  mm: Mm,
  addr: number,
  npages: number,
  gupFlags: number,
  pin: boolean,
  locked: boolean,
): Promise<PageRef[]> {
  checkAlive(mm);
  checkInteger('addr', addr);
  checkInteger('npages', npages);
  checkInteger('gupFlags', gupFlags);
  if (npages < 0) throw new KernelError('EINVAL', `npages must be >= 0, got ${npages}`);
  if (gupFlags & ~VALID_FLAGS)
    throw new KernelError(
      'EINVAL',
      `gupFlags ${gupFlags} has bits outside FOLL_WRITE|GET|FORCE|LONGTERM|SPLIT_PMD|REMOTE`,
    );
  if (pin && gupFlags & FOLL_GET)
    throw new KernelError('EINVAL', 'FOLL_GET cannot be combined with a pin');
  const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  if (addr < 0 || start + npages * PAGE_SIZE > TASK_SIZE)
    throw new KernelError(
      'EFAULT',
      `[${addr}, +${npages} pages) is outside the user address space`,
    );
  if (locked) {
    mm.mmapLock.assertHeld();
    return gupLocked(mm, start, npages, gupFlags, pin);
  }
  await mm.mmapLock.downRead();
  try {
    return await gupLocked(mm, start, npages, gupFlags, pin);
  } finally {
    mm.mmapLock.upRead();
  }
}

/** __get_user_pages(): the follow / fault loop, mmap_lock held. */
async function gupLocked(
  mm: Mm,
  start: number,
  npages: number,
  gupFlags: number,
  pin: boolean,
): Promise<PageRef[]> {
  const refs: PageRef[] = [];
  for (let i = 0; i < npages; i++) {
    const err = await gupOne(mm, start + i * PAGE_SIZE, gupFlags, pin, refs);
    if (err === undefined) continue;
    if (refs.length > 0) break;
    throw err;
  }
  return refs;
}

/** check_vma_flags(): whether GUP may touch `vma` with these flags. */
function vmaAllows(vma: Vma, write: boolean, force: boolean): boolean {
  if (vma.flags & (VM_IO | VM_PFNMAP)) return false;
  if (write) {
    if (vma.flags & VM_WRITE) return true;
    return force && (vma.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
  }
  return (vma.flags & VM_READ) !== 0 || (force && (vma.flags & VM_MAYREAD) !== 0);
}

async function gupOne(
  mm: Mm,
  addr: number,
  gupFlags: number,
  pin: boolean,
  refs: PageRef[],
): Promise<KernelError | undefined> {
  const write = (gupFlags & FOLL_WRITE) !== 0;
  const vma = mm.vmaLookup(addr);
  // check_vma_flags(): FOLL_SPLIT_PMD on hugetlb is refused after the VM_IO/VM_PFNMAP test
  // and before the access test.
  if (vma !== undefined && !(vma.flags & (VM_IO | VM_PFNMAP)))
    if (gupFlags & FOLL_SPLIT_PMD && vma.flags & VM_HUGETLB)
      return new KernelError('EOPNOTSUPP', `FOLL_SPLIT_PMD on the hugetlb mapping at ${addr}`);
  if (vma === undefined || !vmaAllows(vma, write, (gupFlags & FOLL_FORCE) !== 0))
    return new KernelError('EFAULT', `no VMA allowing this access at ${addr}`);
  for (;;) {
    if (gupFlags & FOLL_SPLIT_PMD && hugePmdSlot(mm, addr) >= 0) await splitHugePmd(mm, addr);
    const pfn = followPage(mm, addr, write, pin, (gupFlags & FOLL_FORCE) !== 0);
    if (pfn === -2) return new KernelError('EFAULT', `special mapping at ${addr} has no page`);
    if (pfn >= 0) {
      if (pin && gupFlags & FOLL_LONGTERM && mm.memory.flags[pfn]! & PG_ZONE_DEVICE) {
        // check_and_migrate_movable_pages(): device memory is never pinned long term.
        if ((await migratePage(mm.memory, pfn)) < 0)
          return new KernelError(
            'ENOMEM',
            `cannot migrate device pfn ${pfn} out for FOLL_LONGTERM`,
          );
        continue;
      }
      if (pin) mm.memory.pinPage(pfn);
      else mm.memory.getPage(pfn);
      refs.push(new GupRef(mm, pfn, pin));
      return undefined;
    }
    const unshare = pfn === -3 ? FAULT_FLAG_UNSHARE : 0;
    const faultFlags = FAULT_FLAG_REMOTE | unshare | (write ? FAULT_FLAG_WRITE : 0);
    const ret = await handleMmFault(mm, addr, faultFlags, (gupFlags & FOLL_FORCE) !== 0);
    if (ret & VM_FAULT_ERROR)
      return ret & VM_FAULT_OOM
        ? new KernelError('ENOMEM', `out of memory at ${addr}`)
        : faultError(mm, addr, ret);
  }
}

/**
 * follow_page_pte(): the pfn to grab, -1 to fault, -2 for a special PTE (no page), -3 when a
 * pin must unshare a shared anon page first. A forced write may follow a read-only PTE of
 * an exclusive anon page, the copy FOLL_FORCE made (can_follow_write_pte).
 */
function followPage(mm: Mm, addr: number, write: boolean, pin: boolean, force: boolean): number {
  const slot = leafSlot(mm, addr);
  if (slot < 0) return -1;
  const bits = mm.pt.bits[slot]!;
  if (!(bits & PTE_PRESENT) || bits & PTE_PROTNONE) return -1;
  const pfn = leafPfn(mm, addr, slot);
  if (write && !(bits & PTE_WRITE) && !(force && forcedCopy(mm, bits, pfn))) return -1;
  if (bits & PTE_SPECIAL) return pfn === ZERO_PFN ? pfn : -2;
  const f = mm.memory.flags[pfn]!;
  if (pin && f & PG_ANON && !(f & PG_ANON_EXCLUSIVE)) return -3;
  return pfn;
}

function forcedCopy(mm: Mm, bits: number, pfn: number): boolean {
  return (
    !(bits & PTE_SPECIAL) &&
    (mm.memory.flags[pfn]! & (PG_ANON | PG_ANON_EXCLUSIVE)) === (PG_ANON | PG_ANON_EXCLUSIVE)
  );
}
