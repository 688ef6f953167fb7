/**
 * mmap() and munmap(): do_mmap / mmap_region (mm/mmap.c, mm/vma.c), get_unmapped_area with
 * a top-down search, do_vmi_munmap with VMA splitting, and MAP_POPULATE (mm_populate).
 */

import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  MMAP_MIN_ADDR,
  PAGE_SIZE,
  PMD_SIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  TASK_SIZE,
  VM_DONTCOPY,
  VM_EXEC,
  VM_HUGETLB,
  VM_IO,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { MemFile } from './mem-file.js';
import type { Mm } from './mm.js';
import { MmuGather } from './mmu-gather.js';
import { populateRange } from './populate.js';
import { splitHugePmd } from './thp.js';
import { checkAlive, checkInteger, isPageAligned, pageAlign } from './validate.js';
import { Vma } from './vma.js';
import { freePgtables, zapRange } from './zap.js';

/** Options of Mm.mmap(). */
export interface MmapOptions {
  /** Address hint, or the address with MAP_FIXED / MAP_FIXED_NOREPLACE. */
  addr?: number;
  /** Backing tmpfs file (ignored with MAP_ANONYMOUS, as the kernel ignores the fd). */
  file?: MemFile;
  /** Byte offset in the file, page aligned. */
  offset?: number;
  /**
   * VM flags a device driver's ->mmap would set, standing for the mmap of a device file:
   * any of VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTCOPY. With VM_PFNMAP or VM_MIXEDMAP the
   * mapping has no backing memory: the driver fills it with remapPfnRange() / vmInsertPage()
   * and a fault on an empty entry is a SIGBUS.
   */
  vmFlags?: number;
}

const DRIVER_VM_FLAGS = VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_DONTCOPY;

/** Top of the mmap area (mm->mmap_base): TASK_SIZE minus a fixed stack gap. */
export const MMAP_BASE = TASK_SIZE - 128 * 1024 * 1024;

const KNOWN_FLAGS = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED_NOREPLACE;

/** calc_vm_prot_bits(): PROT_* → VM_READ/WRITE/EXEC. */
export function protToVmFlags(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) |
    (prot & PROT_WRITE ? VM_WRITE : 0) |
    (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/** do_mmap(): the body of Mm.mmap(). */
export async function mmap(
  mm: Mm,
  length: number,
  prot: number,
  flags: number,
  opts: MmapOptions,
): Promise<number> {
  checkAlive(mm);
  const args = checkMmapArgs(length, prot, flags, opts);
  await mm.mmapLock.downWrite();
  let addr: number;
  try {
    addr = await mapRegion(mm, args);
  } finally {
    mm.mmapLock.upWrite();
  }
  if (flags & MAP_POPULATE) await populate(mm, addr, addr + args.len);
  return addr;
}

interface MmapArgs {
  len: number;
  vmFlags: number;
  flags: number;
  hint: number;
  file: MemFile | undefined;
  pgoff: number;
}

function checkMmapArgs(length: number, prot: number, flags: number, opts: MmapOptions): MmapArgs {
  checkInteger('length', length);
  checkInteger('prot', prot);
  checkInteger('flags', flags);
  // ksys_mmap_pgoff() looks the fd up before do_mmap() checks anything else.
  const anon = (flags & MAP_ANONYMOUS) !== 0;
  const file = anon ? undefined : opts.file;
  if (!anon && !(file instanceof MemFile))
    throw new KernelError('EBADF', `flags ${flags}: no MAP_ANONYMOUS and no file to map`);
  if (length <= 0) throw new KernelError('EINVAL', `length must be > 0, got ${length}`);
  if (prot < 0) throw new KernelError('EINVAL', `prot must be >= 0, got ${prot}`);
  const huge = (flags & MAP_HUGETLB) !== 0;
  const len = huge ? Math.ceil(length / PMD_SIZE) * PMD_SIZE : pageAlign(length);
  if (len > TASK_SIZE) throw new KernelError('ENOMEM', `length ${length} exceeds TASK_SIZE`);
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE)
    throw new KernelError('EINVAL', `flags ${flags}: need exactly one of MAP_SHARED, MAP_PRIVATE`);
  if (type === MAP_SHARED_VALIDATE && flags & ~KNOWN_FLAGS)
    throw new KernelError('EOPNOTSUPP', `flags ${flags}: unknown bits with MAP_SHARED_VALIDATE`);
  if (huge && (type !== MAP_PRIVATE || !(flags & MAP_ANONYMOUS)))
    throw new KernelError('EOPNOTSUPP', 'only MAP_PRIVATE|MAP_ANONYMOUS hugetlb is modelled');
  const offset = opts.offset ?? 0;
  checkInteger('offset', offset);
  if (offset < 0 || !isPageAligned(offset))
    throw new KernelError('EINVAL', `offset must be page aligned and >= 0, got ${offset}`);
  if (offset + len > Number.MAX_SAFE_INTEGER)
    throw new KernelError('EOVERFLOW', `offset ${offset} + length ${len} overflows`);
  const hint = opts.addr ?? 0;
  checkInteger('addr', hint);
  const extra = opts.vmFlags ?? 0;
  checkInteger('vmFlags', extra);
  if (extra & ~DRIVER_VM_FLAGS || extra < 0)
    throw new KernelError(
      'EINVAL',
      `vmFlags ${extra}: only VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTCOPY`,
    );
  const shared = type !== MAP_PRIVATE;
  const vmFlags =
    (huge ? VM_HUGETLB : 0) |
    extra |
    protToVmFlags(prot) |
    VM_MAYREAD |
    VM_MAYWRITE |
    VM_MAYEXEC |
    (shared ? VM_SHARED | VM_MAYSHARE : 0);
  return { len, vmFlags, flags, hint, file, pgoff: offset / PAGE_SIZE };
}

async function mapRegion(mm: Mm, a: MmapArgs): Promise<number> {
  const fixed = (a.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  const huge = (a.vmFlags & VM_HUGETLB) !== 0;
  if (huge && mm.memory.freeHugePages < a.len / PMD_SIZE)
    throw new KernelError(
      'ENOMEM',
      `${a.len / PMD_SIZE} huge pages needed, ${mm.memory.freeHugePages} free`,
    );
  const addr = fixed
    ? checkFixed(mm, a)
    : unmappedArea(mm, a.len, a.hint, huge ? PMD_SIZE : PAGE_SIZE);
  if (fixed && mm.anyVmaIn(addr, addr + a.len)) await doMunmap(mm, addr, addr + a.len);
  const shared = (a.vmFlags & VM_SHARED) !== 0;
  let file = a.file;
  let pgoff = a.pgoff;
  const device = (a.vmFlags & (VM_PFNMAP | VM_MIXEDMAP)) !== 0;
  if (file === undefined && shared && !device)
    file = new MemFile(mm.memory, mm.memory.newId(), a.len, false);
  else if (file === undefined) pgoff = addr / PAGE_SIZE;
  file?.get();
  mm.linkVma(new Vma(addr, addr + a.len, a.vmFlags, pgoff, file));
  return addr;
}

function checkFixed(mm: Mm, a: MmapArgs): number {
  const addr = a.hint;
  const align = a.vmFlags & VM_HUGETLB ? PMD_SIZE : PAGE_SIZE;
  if (addr % align !== 0 || addr < 0)
    throw new KernelError('EINVAL', `MAP_FIXED addr must be aligned to ${align}, got ${addr}`);
  if (addr > TASK_SIZE - a.len)
    throw new KernelError('ENOMEM', `[${addr}, +${a.len}) passes TASK_SIZE`);
  if (addr < MMAP_MIN_ADDR)
    throw new KernelError('EPERM', `MAP_FIXED addr ${addr} is below mmap_min_addr`);
  if (a.flags & MAP_FIXED_NOREPLACE && mm.anyVmaIn(addr, addr + a.len))
    throw new KernelError('EEXIST', `MAP_FIXED_NOREPLACE: [${addr}, +${a.len}) is mapped`);
  return addr;
}

/** get_unmapped_area(): the hint when free, else the highest gap below MMAP_BASE. */
export function unmappedArea(mm: Mm, len: number, hint: number, align = PAGE_SIZE): number {
  const h = Math.floor(hint / align) * align;
  if (h >= MMAP_MIN_ADDR && h <= TASK_SIZE - len && !mm.anyVmaIn(h, h + len)) return h;
  let top = MMAP_BASE;
  for (let i = mm.vmas.length - 1; i >= -1; i--) {
    const v = mm.vmas[i];
    if (v !== undefined && v.start >= top) continue;
    const floor = v === undefined ? MMAP_MIN_ADDR : v.end;
    const at = Math.floor((top - len) / align) * align;
    if (at >= floor) return at;
    if (v !== undefined) top = v.start;
  }
  throw new KernelError('ENOMEM', `no free range of ${len} bytes`);
}

async function populate(mm: Mm, start: number, end: number): Promise<void> {
  await mm.mmapLock.downRead();
  try {
    for (const v of [...mm.vmas]) {
      if (v.end <= start || v.start >= end) continue;
      await populateRange(mm, v, Math.max(start, v.start), Math.min(end, v.end));
    }
  } finally {
    mm.mmapLock.upRead();
  }
}

/** The munmap() system call: the body of Mm.munmap(). */
export async function munmap(mm: Mm, addr: number, length: number): Promise<void> {
  checkAlive(mm);
  checkInteger('addr', addr);
  checkInteger('length', length);
  if (!isPageAligned(addr) || addr < 0)
    throw new KernelError('EINVAL', `addr must be page aligned, got ${addr}`);
  if (length <= 0) throw new KernelError('EINVAL', `length must be > 0, got ${length}`);
  const len = pageAlign(length);
  if (len > TASK_SIZE || addr > TASK_SIZE - len)
    throw new KernelError('EINVAL', `[${addr}, +${length}) passes TASK_SIZE`);
  await mm.mmapLock.downWrite();
  try {
    await doMunmap(mm, addr, addr + len);
  } finally {
    mm.mmapLock.upWrite();
  }
}

/**
 * Splits the VMA containing `addr` so that a boundary falls on `addr` (__split_vma), after
 * splitting a huge PMD that `addr` cuts (vma_adjust_trans_huge).
 */
export async function splitVma(mm: Mm, addr: number): Promise<void> {
  const v = mm.vmaLookup(addr);
  if (v !== undefined && v.flags & VM_HUGETLB && addr % PMD_SIZE !== 0 && v.start !== addr)
    throw new KernelError('EINVAL', `hugetlb mapping at ${v.start} cannot be split at ${addr}`);
  if (addr % PMD_SIZE !== 0) await splitHugePmd(mm, addr);
  splitAt(mm, addr);
}

/** Splits the VMA list at `addr`; page tables are not touched (see splitVma). */
function splitAt(mm: Mm, addr: number): void {
  const v = mm.vmaLookup(addr);
  if (v === undefined || v.start === addr) return;
  const tail = v.slice(addr, v.end);
  v.end = addr;
  mm.linkVma(tail);
}

/**
 * Unmaps [start, end) with the mmap_lock held for write (do_vmi_align_munmap): split, one
 * MMU_NOTIFY_UNMAP over the range, zap, free page tables, flush, free pages, drop VMAs.
 */
export async function doMunmap(mm: Mm, start: number, end: number): Promise<void> {
  mm.mmapLock.assertWriteLocked();
  if (!mm.anyVmaIn(start, end)) return;
  await splitVma(mm, start);
  await splitVma(mm, end);
  const first = mm.findIndex(start);
  let last = first;
  while (last < mm.vmas.length && mm.vmas[last]!.start < end) last++;
  const victims = mm.vmas.splice(first, last - first);
  const tlb = new MmuGather(mm);
  const range = await mm.invalidateStart(MmuNotifierEvent.UNMAP, start, end);
  for (const v of victims) zapRange(mm, v.start, v.end, tlb);
  await mm.notifiers.invalidateRangeEnd(range);
  freePgtables(mm, start, end);
  tlb.finish();
  for (const v of victims) v.file?.put();
}
