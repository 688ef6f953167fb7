/**
 * remove_device_exclusive_entry() (mm/memory.c, v6.15+): a CPU fault on a device-exclusive
 * entry revokes the device's exclusive access.
 *
 *   folio_try_get()            fails: the entry is gone already, retry the fault
 *   folio_lock()               sleeps while the driver still programs its mapping
 *   invalidate_range_start(CLEAR, [addr, addr + 4096), owner NULL)
 *                              nobody filters it: the device drops its atomic mapping
 *   PTL: entry unchanged?      restore_exclusive_pte(): present PTE, writable only if the
 *                              VMA has VM_WRITE now (an mprotect in between is honoured)
 *   folio_unlock(), folio_put(), invalidate_range_end()
 *
 * Installed into @hmmkit/mm through PhysicalMemory.deviceExclusiveOps, which do_swap_page
 * calls for a device-exclusive entry.
 */
import {
  type DeviceExclusiveOps,
  FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_RETRY_NOWAIT,
  PAGE_SIZE,
  PhysicalMemory,
  PteKind,
  restoreExclusivePteLocked,
  VM_FAULT_RETRY,
  type VmFault,
} from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError, trace } from '@hmmkit/runtime';
import { entryAt } from './walker-cache.js';

const NOWAIT = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;

/**
 * folio_lock_or_retry() without dropping the mmap_lock: a fault that may not wait returns
 * VM_FAULT_RETRY; any other one sleeps on the page lock (the path the kernel takes when the
 * fault may not retry; @hmmkit/mm's callers cannot have the lock dropped under them).
 */
async function lockOrRetry(memory: PhysicalMemory, pfn: number, flags: number): Promise<boolean> {
  if (memory.trylockPage(pfn)) return true;
  if ((flags & NOWAIT) === NOWAIT) return false;
  await memory.lockPage(pfn);
  return true;
}

/**
 * Restores the device-exclusive entry that `vmf` faulted on to a present PTE, revoking the
 * device's exclusive access. Mirrors remove_device_exclusive_entry().
 *
 * **Locking**: called by @hmmkit/mm's fault handler with the mmap_lock held for read and no
 * spinlock; takes the page lock and the PTL; may sleep. Not from an invalidation callback.
 * @returns 0 (the fault is retried by the caller and finds the present PTE), or
 * VM_FAULT_RETRY when the page is locked and the fault may not wait.
 * @throws KernelError EINVAL when `vmf` is not a fault on a device-exclusive entry.
 */
export async function removeDeviceExclusiveEntry(vmf: VmFault): Promise<number> {
  if (vmf?.kind !== PteKind.DEVICE_EXCLUSIVE)
    throw new KernelError(
      'EINVAL',
      `vmf must be a fault on a device-exclusive entry, got kind ${vmf?.kind}`,
    );
  const { mm, address, pfn } = vmf;
  const memory = mm.memory;
  // Without the PTL a racing zap may free the page; a failed get means the entry is gone.
  if (!memory.tryGetPage(pfn)) return 0;
  if (!(await lockOrRetry(memory, pfn, vmf.flags))) {
    memory.putPage(pfn);
    return VM_FAULT_RETRY;
  }
  const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, address, address + PAGE_SIZE);
  mm.ptl.lock();
  const w = entryAt(mm, address);
  const same = w.bits === vmf.bits && w.pfn === pfn;
  if (same) restoreExclusivePteLocked(mm, address);
  mm.ptl.unlock();
  trace('device-exclusive', 'restore', { mm: mm.id, address, pfn, restored: same });
  memory.unlockPage(pfn);
  memory.putPage(pfn);
  await mm.notifiers.invalidateRangeEnd(range);
  return 0;
}

/**
 * The hook object installed into PhysicalMemory.deviceExclusiveOps: the device-exclusive
 * branch of do_swap_page(). **Context**: as removeDeviceExclusiveEntry().
 */
export const deviceExclusiveOps: DeviceExclusiveOps = {
  restoreExclusive: removeDeviceExclusiveEntry,
};

/**
 * Makes CPU faults on device-exclusive entries of `memory` go through
 * removeDeviceExclusiveEntry() (in the kernel this is built into do_swap_page).
 * makeDeviceExclusive() calls it; call it yourself only to restore entries created some
 * other way. Idempotent.
 * **Context**: never sleeps.
 * @throws KernelError EINVAL when `memory` is not a PhysicalMemory, EBUSY when another hook
 * is installed.
 */
export function installDeviceExclusiveOps(memory: PhysicalMemory): void {
  if (!(memory instanceof PhysicalMemory))
    throw new KernelError('EINVAL', `memory must be a PhysicalMemory, got ${String(memory)}`);
  const cur = memory.deviceExclusiveOps;
  if (cur === deviceExclusiveOps) return;
  if (cur !== undefined)
    throw new KernelError('EBUSY', 'another device-exclusive hook is installed on this memory');
  memory.deviceExclusiveOps = deviceExclusiveOps;
}
