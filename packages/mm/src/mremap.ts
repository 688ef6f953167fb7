/**
 * mremap(): shrink, grow in place, or move a mapping (mm/mremap.c). A move copies the VMA
 * with the same pgoff (so rmap still finds every page), moves the entries under one
 * MMU_NOTIFY_UNMAP range over the old range (move_page_tables: start → entries moved →
 * flush of the old range → end), then unmaps the old range as munmap does (a second
 * UNMAP over it, its entries already empty). Pages, mapcounts and references are unchanged.
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PAGE_SIZE,
  TASK_SIZE,
  VM_HUGETLB,
  VM_SHARED,
} from './constants.js';
import type { Mm } from './mm.js';
import { doMunmap, splitVma, unmappedArea } from './mmap.js';
import { splitHugeRange } from './thp.js';
import { checkAlive, checkInteger, isPageAligned, pageAlign } from './validate.js';
import { Vma } from './vma.js';
import { pmdEnd } from './zap.js';

/** do_mremap(): the body of Mm.mremap(). */
export async function mremap(
  mm: Mm,
  oldAddr: number,
  oldLength: number,
  newLength: number,
  flags: number,
  newAddr: number,
): Promise<number> {
  checkAlive(mm);
  for (const [name, v] of [
    ['oldAddr', oldAddr],
    ['oldLength', oldLength],
    ['newLength', newLength],
    ['flags', flags],
    ['newAddr', newAddr],
  ] as const)
    checkInteger(name, v);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) || flags < 0)
    throw new KernelError('EINVAL', `flags ${flags} has unknown bits`);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE))
    throw new KernelError('EINVAL', 'MREMAP_FIXED needs MREMAP_MAYMOVE');
  if (flags & MREMAP_DONTUNMAP)
    throw new KernelError('EOPNOTSUPP', 'MREMAP_DONTUNMAP is not modelled');
  if (oldAddr < 0 || !isPageAligned(oldAddr))
    throw new KernelError('EINVAL', `oldAddr must be page aligned, got ${oldAddr}`);
  if (oldLength < 0 || newLength <= 0)
    throw new KernelError('EINVAL', `lengths must be > 0, got ${oldLength} and ${newLength}`);
  const oldLen = pageAlign(oldLength);
  const newLen = pageAlign(newLength);
  if (oldLen > TASK_SIZE || newLen > TASK_SIZE)
    throw new KernelError('EINVAL', `length ${Math.max(oldLength, newLength)} exceeds TASK_SIZE`);
  await mm.mmapLock.downWrite();
  try {
    return await remapLocked(mm, oldAddr, oldLen, newLen, flags, newAddr);
  } finally {
    mm.mmapLock.upWrite();
  }
}

async function remapLocked(
  mm: Mm,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  flags: number,
  newAddr: number,
): Promise<number> {
  if (flags & MREMAP_FIXED) checkFixed(oldAddr, oldLen, newLen, newAddr);
  const vma = mm.vmaLookup(oldAddr);
  if (vma === undefined) throw new KernelError('EFAULT', `no mapping at ${oldAddr}`);
  if (vma.flags & VM_HUGETLB)
    throw new KernelError('EINVAL', 'mremap of hugetlb mappings is not modelled (EINVAL)');
  if (oldLen === 0)
    throw new KernelError(
      vma.flags & VM_SHARED ? 'EOPNOTSUPP' : 'EINVAL',
      'mremap with old length 0 duplicates shared mappings only (not modelled)',
    );
  if (oldLen > vma.end - oldAddr)
    throw new KernelError('EFAULT', `[${oldAddr}, +${oldLen}) leaves its mapping`);
  if (flags & MREMAP_FIXED) return moveFixed(mm, oldAddr, oldLen, newLen, newAddr);
  if (newLen <= oldLen) {
    if (newLen < oldLen) await doMunmap(mm, oldAddr + newLen, oldAddr + oldLen);
    return oldAddr;
  }
  if (
    oldAddr + oldLen === vma.end &&
    !mm.anyVmaIn(vma.end, oldAddr + newLen) &&
    oldAddr + newLen <= TASK_SIZE
  ) {
    vma.end = oldAddr + newLen;
    return oldAddr;
  }
  if (!(flags & MREMAP_MAYMOVE))
    throw new KernelError('ENOMEM', `cannot grow [${oldAddr}, +${oldLen}) in place`);
  return moveVma(mm, oldAddr, oldLen, newLen, unmappedArea(mm, newLen, 0));
}

/** mremap_to()'s checks, done before the old VMA is looked up. */
function checkFixed(oldAddr: number, oldLen: number, newLen: number, newAddr: number): void {
  if (newAddr < 0 || !isPageAligned(newAddr))
    throw new KernelError('EINVAL', `newAddr must be page aligned, got ${newAddr}`);
  if (newAddr > TASK_SIZE - newLen)
    throw new KernelError('EINVAL', `[${newAddr}, +${newLen}) passes TASK_SIZE`);
  if (newAddr < oldAddr + oldLen && oldAddr < newAddr + newLen)
    throw new KernelError('EINVAL', 'old and new ranges overlap');
}

async function moveFixed(
  mm: Mm,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  newAddr: number,
): Promise<number> {
  await doMunmap(mm, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    await doMunmap(mm, oldAddr + newLen, oldAddr + oldLen);
    oldLen = newLen;
  }
  return moveVma(mm, oldAddr, oldLen, newLen, newAddr);
}

/** move_vma(): copy_vma + move_page_tables + unmap of the old range. */
async function moveVma(
  mm: Mm,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  newAddr: number,
): Promise<number> {
  await splitVma(mm, oldAddr);
  await splitVma(mm, oldAddr + oldLen);
  await splitHugeRange(mm, oldAddr, oldAddr + oldLen, true);
  const old = mm.vmaLookup(oldAddr)!;
  old.file?.get();
  mm.linkVma(
    new Vma(newAddr, newAddr + newLen, old.flags, old.pgoff, old.file, old.anonVma, [
      ...old.anonChain,
    ]),
  );
  const range = await mm.invalidateStart(MmuNotifierEvent.UNMAP, oldAddr, oldAddr + oldLen);
  moveEntries(mm, oldAddr, oldLen, newAddr);
  mm.notifiers.archInvalidateSecondaryTlbs(oldAddr, oldAddr + oldLen);
  await mm.notifiers.invalidateRangeEnd(range);
  await doMunmap(mm, oldAddr, oldAddr + oldLen);
  return newAddr;
}

/** move_ptes(): every entry of the old range goes to the same offset of the new one. */
function moveEntries(mm: Mm, oldAddr: number, len: number, newAddr: number): void {
  const pt = mm.pt;
  for (let off = 0; off < len; ) {
    const from = oldAddr + off;
    const skip = pt.skipAbsent(from);
    if (skip > from) {
      off = skip - oldAddr;
      continue;
    }
    const next = Math.min(oldAddr + len, pmdEnd(from));
    if (pt.pteBase(from, false) >= 0) {
      mm.ptl.lock();
      for (let a = from; a < next; a += PAGE_SIZE) {
        const src = pt.pteSlot(a, false);
        if (pt.bits[src] === 0) continue;
        const dst = pt.pteSlot(newAddr + (a - oldAddr), true);
        pt.pfn[dst] = pt.pfn[src]!;
        pt.bits[dst] = pt.bits[src]!;
        pt.bits[src] = 0;
        pt.pfn[src] = 0;
      }
      mm.ptl.unlock();
    }
    off = next - oldAddr;
  }
}
