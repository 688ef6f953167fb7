/**
 * Driver-filled mappings: remap_pfn_range() (VM_PFNMAP: special PTEs, no page metadata
 * touched) and vm_insert_page() (VM_MIXEDMAP: a normal PTE taking a reference and a
 * mapping of a driver-allocated, non-anonymous page), as a device file's ->mmap does.
 * For drivers (e.g. the dmirror device file).
 */
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, VM_WRITE } from './constants.js';
import type { Mm } from './mm.js';
import { PG_ANON, PG_BUDDY } from './page-flags.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_SPECIAL, PTE_WRITE, PTE_YOUNG } from './pte.js';
import type { Vma } from './vma.js';

function vmaFor(mm: Mm, addr: number, npages: number, flag: number, name: string): Vma {
  mm.mmapLock.assertHeld();
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `${name}: addr must be page aligned, got ${addr}`);
  const vma = mm.vmaLookup(addr);
  if (vma === undefined || vma.end < addr + npages * PAGE_SIZE)
    throw new KernelError('EFAULT', `${name}: [${addr}, +${npages} pages) is not inside one VMA`);
  if (!(vma.flags & flag))
    throw new KernelError(
      'EINVAL',
      `${name}: the VMA at ${vma.start} lacks ${flag === VM_PFNMAP ? 'VM_PFNMAP' : 'VM_MIXEDMAP'}`,
    );
  return vma;
}

function writeBit(vma: Vma): number {
  return (vma.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) ? PTE_WRITE : 0;
}

/**
 * Maps `npages` pfns from `pfn` at `addr` as special PTEs. Mirrors remap_pfn_range().
 * **Locking**: mmap_lock held (the ->mmap path holds it for write); takes the PTL.
 * @throws KernelError EINVAL (unaligned, VMA without VM_PFNMAP, unknown pfn), EFAULT
 * (range not inside one VMA), EBUSY (an entry is already present).
 */
export function remapPfnRange(mm: Mm, addr: number, pfn: number, npages: number): void {
  if (!Number.isSafeInteger(npages) || npages < 1)
    throw new KernelError('EINVAL', `npages must be a positive integer, got ${npages}`);
  const vma = vmaFor(mm, addr, npages, VM_PFNMAP, 'remapPfnRange');
  if (!mm.memory.validPfn(pfn) || !mm.memory.validPfn(pfn + npages - 1))
    throw new KernelError('EINVAL', `pfns [${pfn}, +${npages}) are not known frames`);
  const bits = PTE_PRESENT | PTE_SPECIAL | PTE_YOUNG | PTE_DIRTY | writeBit(vma);
  mm.ptl.lock();
  try {
    for (let i = 0; i < npages; i++) {
      const slot = mm.pt.pteSlot(addr + i * PAGE_SIZE, true);
      if (mm.pt.bits[slot] !== 0)
        throw new KernelError('EBUSY', `entry at ${addr + i * PAGE_SIZE} is in use`);
      mm.pt.pfn[slot] = pfn + i;
      mm.pt.bits[slot] = bits;
    }
  } finally {
    mm.ptl.unlock();
  }
}

/**
 * Maps the driver's page `pfn` at `addr`, taking a reference and a mapping. Mirrors
 * vm_insert_page(); the page must be allocated and not anonymous.
 * **Locking**: mmap_lock held; takes the PTL.
 * @throws KernelError EINVAL (unaligned, VMA without VM_MIXEDMAP, free or anon page),
 * EFAULT (no VMA), EBUSY (entry in use).
 */
export function vmInsertPage(mm: Mm, addr: number, pfn: number): void {
  const vma = vmaFor(mm, addr, 1, VM_MIXEDMAP, 'vmInsertPage');
  const memory = mm.memory;
  if (
    !memory.validPfn(pfn) ||
    pfn === 0 ||
    memory.flags[pfn]! & (PG_BUDDY | PG_ANON) ||
    memory.refcount[pfn]! <= 0
  )
    throw new KernelError('EINVAL', `vmInsertPage: pfn ${pfn} is not an allocated non-anon page`);
  mm.ptl.lock();
  try {
    const slot = mm.pt.pteSlot(addr, true);
    if (mm.pt.bits[slot] !== 0) throw new KernelError('EBUSY', `entry at ${addr} is in use`);
    memory.getPage(pfn);
    memory.mapcount[pfn]!++;
    mm.pt.pfn[slot] = pfn;
    mm.pt.bits[slot] = PTE_PRESENT | PTE_YOUNG | writeBit(vma);
  } finally {
    mm.ptl.unlock();
  }
}
