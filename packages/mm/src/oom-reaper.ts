/**
 * The OOM reaper (__oom_reap_task_mm in mm/oom_kill.c): frees the private memory of an
 * address space whose owner was OOM-killed, without sleeping. It only try-locks the
 * mmap_lock and uses non-blockable notifier ranges: a VMA whose
 * invalidateRangeStartNonblock() returns -EAGAIN is skipped **without** calling
 * invalidateRangeEnd, and the pass reports failure so the caller retries later.
 */
import { MmuNotifierEvent, mmuNotifierRangeInit } from '@hmmkit/mmu-notifier';
import { VM_HUGETLB, VM_PFNMAP, VM_SHARED } from './constants.js';
import type { Mm } from './mm.js';
import { MmuGather } from './mmu-gather.js';
import { zapRange } from './zap.js';

/**
 * Reaps `mm`'s anonymous and private memory. Returns false when the mmap_lock was busy or a
 * notifier refused a non-blockable range (some VMAs were not reaped); true otherwise.
 * Mirrors oom_reap_task_mm() / __oom_reap_task_mm().
 * **Context**: never sleeps on the mmap_lock; notifier callbacks run non-blockable.
 */
export async function oomReap(mm: Mm): Promise<boolean> {
  if (!mm.mmapLock.downReadTrylock()) return false;
  let ret = true;
  try {
    for (const vma of mm.vmas) {
      if (vma.flags & (VM_HUGETLB | VM_PFNMAP)) continue;
      if (!vma.isAnonymous && vma.flags & VM_SHARED) continue;
      const range = mmuNotifierRangeInit(MmuNotifierEvent.UNMAP, 0, mm, vma.start, vma.end);
      const tlb = new MmuGather(mm);
      if (mm.notifiers.invalidateRangeStartNonblock(range) !== 0) {
        tlb.finish();
        ret = false;
        continue;
      }
      zapRange(mm, vma.start, vma.end, tlb);
      await mm.notifiers.invalidateRangeEnd(range);
      tlb.finish();
    }
  } finally {
    mm.mmapLock.upRead();
  }
  return ret;
}
