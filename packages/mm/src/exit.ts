/**
 * Address-space teardown when the last user goes (exit_mmap in mm/mmap.c): the notifier
 * release pass first (mmu_notifier_release: the interval notifiers see one
 * MMU_NOTIFY_RELEASE over everything, then every classic ->release), then one
 * MMU_NOTIFY_UNMAP over [0, ULONG_MAX) around the zap of every VMA, page tables freed,
 * TLBs flushed, pages freed, VMAs and their files released.
 */
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import type { Mm } from './mm.js';
import { MmuGather } from './mmu-gather.js';
import { zapRange } from './zap.js';

/** The kernel's ULONG_MAX end of the exit_mmap range. */
const ULONG_MAX_END = Number.MAX_SAFE_INTEGER;

/** exit_mmap(): tears the address space down; called by the last Mm.mmput(). */
export async function exitMmap(mm: Mm): Promise<void> {
  await mm.notifiers.release();
  await mm.mmapLock.downWrite();
  try {
    if (mm.vmas.length === 0) return;
    const tlb = new MmuGather(mm);
    const range = await mm.invalidateStart(MmuNotifierEvent.UNMAP, 0, ULONG_MAX_END);
    for (const v of mm.vmas) zapRange(mm, v.start, v.end, tlb);
    await mm.notifiers.invalidateRangeEnd(range);
    const victims = mm.vmas.splice(0, mm.vmas.length);
    mm.pt.reset();
    tlb.finish();
    for (const v of victims) v.file?.put();
  } finally {
    mm.mmapLock.upWrite();
  }
}
