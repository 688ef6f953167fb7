/**
 * get_user_page_vma_remote(mm, addr, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD) with the
 * mmap_lock already held by the caller, as make_device_exclusive() calls it.
 *
 * @hmmkit/mm's getUserPages() takes the mmap_lock itself (the get_user_pages_unlocked shape),
 * and a nested read acquisition is a lockdep error, so the follow / fault loop of
 * __get_user_pages() for one page is rebuilt here on mm's exported fault handler and walker.
 */
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  type Mm,
  PteKind,
  splitHugePmd,
  VM_FAULT_ERROR,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_HUGETLB,
  VM_IO,
  VM_PFNMAP,
  VM_WRITE,
} from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import { entryAt } from './walker-cache.js';

/** check_vma_flags() for FOLL_WRITE | FOLL_SPLIT_PMD without FOLL_FORCE. */
function checkVma(mm: Mm, addr: number): void {
  const vma = mm.vmaLookup(addr);
  if (vma === undefined) throw new KernelError('EFAULT', `no VMA at ${addr}`);
  if (vma.flags & (VM_IO | VM_PFNMAP))
    throw new KernelError('EFAULT', `VM_IO/VM_PFNMAP mapping at ${addr}`);
  if (vma.flags & VM_HUGETLB)
    throw new KernelError('EOPNOTSUPP', `FOLL_SPLIT_PMD on the hugetlb mapping at ${addr}`);
  if (!(vma.flags & VM_WRITE))
    throw new KernelError('EFAULT', `mapping at ${addr} is not writable`);
}

const NEED_FAULT = -1;
const NEED_SPLIT = -2;

/**
 * follow_pmd_mask() + follow_page_pte() for a write with FOLL_SPLIT_PMD: the pfn when the
 * entry is a present, writable PTE of a normal page, NEED_SPLIT on a PMD-mapped THP,
 * NEED_FAULT when a fault is needed.
 */
function followWritable(mm: Mm, addr: number): number {
  const w = entryAt(mm, addr);
  if (w.kind === PteKind.PRESENT && w.order !== 0) return NEED_SPLIT;
  if (w.kind !== PteKind.PRESENT || w.protnone || !w.writable) return NEED_FAULT;
  if (w.special) throw new KernelError('EFAULT', `special mapping at ${addr} has no page`);
  return w.pfn;
}

/** vm_fault_to_errno() for GUP. */
function faultErrno(ret: number, addr: number): KernelError {
  if (ret & VM_FAULT_OOM) return new KernelError('ENOMEM', `out of memory faulting ${addr}`);
  if (ret & VM_FAULT_HWPOISON) return new KernelError('EHWPOISON', `poisoned page at ${addr}`);
  return new KernelError('EFAULT', `fault at ${addr} failed (VM_FAULT ${ret})`);
}

/**
 * Faults the page at `addr` in writable (breaking COW, restoring any device-exclusive entry,
 * splitting a PMD-mapped THP to PTEs) and returns its pfn with a reference taken.
 * **Locking**: the caller holds the mmap_lock (read); may sleep.
 * @throws KernelError EFAULT (no VMA, not writable, VM_IO/VM_PFNMAP, fault failed),
 * EOPNOTSUPP (hugetlb), ENOMEM, EHWPOISON.
 */
export async function getUserPageWriteLocked(mm: Mm, addr: number): Promise<number> {
  checkVma(mm, addr);
  for (;;) {
    const pfn = followWritable(mm, addr);
    if (pfn >= 0) {
      mm.memory.getPage(pfn);
      return pfn;
    }
    if (pfn === NEED_SPLIT) {
      await splitHugePmd(mm, addr);
      continue;
    }
    const ret = await mm.handleMmFault(addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE);
    if (ret & VM_FAULT_ERROR) throw faultErrno(ret, addr);
  }
}
