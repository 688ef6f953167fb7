/**
 * migrate_device_range / migrate_device_pages / migrate_device_finalize
 * (mm/migrate_device.c): migration by physical page instead of by VMA, used by drivers to
 * evict their device memory (device removal, memory pressure).
 */
import type { PhysicalMemory } from '@hmmkit/mm';
import { KernelError, mightSleep } from '@hmmkit/runtime';
import { migrateFinalize } from './migrate-finalize.js';
import { migrateOnePage } from './migrate-pages.js';
import { MIGRATE_PFN_MIGRATE, migratePfn } from './migrate-pfn.js';
import { migrateDeviceUnmap } from './migrate-unmap.js';

function checkArrays(memory: PhysicalMemory, npages: number, ...arrays: Float64Array[]): void {
  if (typeof memory !== 'object' || memory === null || !('pagemaps' in memory))
    throw new KernelError('EINVAL', `memory must be a PhysicalMemory, got ${String(memory)}`);
  if (!Number.isSafeInteger(npages) || npages < 0)
    throw new KernelError('EINVAL', `npages must be a non-negative integer, got ${npages}`);
  for (const a of arrays)
    if (!(a instanceof Float64Array) || a.length < npages)
      throw new KernelError('EINVAL', `pfn arrays must be Float64Arrays of >= ${npages} entries`);
}

/**
 * Selects the in-use pages among pfns [startPfn, startPfn + npages) for migration: each is
 * referenced, locked and unmapped everywhere (migration entries under MMU_NOTIFY_CLEAR).
 * `src[i]` becomes migratePfn(pfn) | MIGRATE_PFN_MIGRATE, or 0 for idle or busy pages.
 * Mirrors migrate_device_range().
 *
 * **Locking**: no mmap_lock needed; may sleep.
 * @throws KernelError EINVAL for bad arguments or pfns that are not device pages.
 */
export async function migrateDeviceRange(
  memory: PhysicalMemory,
  src: Float64Array,
  startPfn: number,
  npages: number,
): Promise<void> {
  checkArrays(memory, npages, src);
  const pgmap = memory.pagemapOf(startPfn);
  if (pgmap === undefined || !pgmap.contains(startPfn + npages - 1))
    throw new KernelError('EINVAL', `pfns [${startPfn}, +${npages}) are not one device pagemap`);
  mightSleep('migrate_device_range');
  for (let i = 0; i < npages; i++) src[i] = selectPfn(memory, startPfn + i);
  await migrateDeviceUnmap(memory, src, npages, -1);
}

function selectPfn(memory: PhysicalMemory, pfn: number): number {
  if (!memory.tryGetPage(pfn)) return 0;
  if (!memory.trylockPage(pfn)) {
    memory.putPage(pfn);
    return 0;
  }
  return migratePfn(pfn) | MIGRATE_PFN_MIGRATE;
}

/**
 * Moves each selected page's identity to `dst[i]` (pages the driver allocated, locked and
 * filled); entries that cannot move lose MIGRATE_PFN_MIGRATE. Mirrors migrate_device_pages().
 * **Locking**: no spinlock; never sleeps.
 * @throws KernelError EINVAL for bad arguments.
 */
export function migrateDevicePages(
  memory: PhysicalMemory,
  src: Float64Array,
  dst: Float64Array,
  npages: number,
): void {
  checkArrays(memory, npages, src, dst);
  for (let i = 0; i < npages; i++) migrateOnePage(memory, src, dst, i, -1);
}

/**
 * Ends a migrateDeviceRange() migration: migration entries become mappings of the new
 * pages (or the old ones), pages are unlocked and released. Mirrors migrate_device_finalize().
 * **Locking**: no spinlock; never sleeps.
 * @throws KernelError EINVAL for bad arguments.
 */
export function migrateDeviceFinalize(
  memory: PhysicalMemory,
  src: Float64Array,
  dst: Float64Array,
  npages: number,
): void {
  checkArrays(memory, npages, src, dst);
  migrateFinalize(memory, src, dst, npages, -1);
}
