/**
 * migrate_device_unmap() (mm/migrate_device.c): after collection, make sure every selected
 * page is unmapped everywhere and referenced only by the migration; pages that are not are
 * restored and dropped from the migration.
 */
import { type PhysicalMemory, removeMigrationPtes, tryToMigrate } from '@hmmkit/mm';
import { MIGRATE_PFN_MIGRATE, migratePfnToPage } from './migrate-pfn.js';

/**
 * Unmaps the pages of `src[0..npages)` that carry MIGRATE_PFN_MIGRATE; each must already be
 * locked and referenced once by the migration (plus once by the fault for `faultPage`).
 * Returns how many pages were dropped (their entries become 0, mappings restored, pages
 * unlocked and released).
 * **Locking**: no spinlock; may sleep (notifiers of the remaining mappings). `faultPage`
 * (-1 for none) is locked by its caller, do_swap_page(): a dropped fault page keeps its lock.
 */
export async function migrateDeviceUnmap(
  memory: PhysicalMemory,
  src: Float64Array,
  npages: number,
  faultPage: number,
): Promise<number> {
  let dropped = 0;
  for (let i = 0; i < npages; i++) {
    const pfn = migratePfnToPage(src[i]!);
    if (pfn < 0 || !(src[i]! & MIGRATE_PFN_MIGRATE)) continue;
    const unmapped = memory.mapcount[pfn] === 0 || (await tryToMigrate(memory, pfn));
    if (unmapped && migrateCheckPage(memory, pfn, faultPage)) continue;
    removeMigrationPtes(memory, pfn, pfn);
    src[i] = 0;
    if (pfn !== faultPage) memory.unlockPage(pfn); // the faulting CPU holds that lock
    memory.putPage(pfn);
    dropped++;
  }
  return dropped;
}

/**
 * migrate_vma_check_page(): only the migration's reference (and the faulting CPU's for the
 * fault page) may remain, and the page must not be pinned.
 */
export function migrateCheckPage(memory: PhysicalMemory, pfn: number, faultPage: number): boolean {
  const extra = pfn === faultPage ? 2 : 1;
  return memory.pincount[pfn] === 0 && memory.refcount[pfn] === extra;
}
