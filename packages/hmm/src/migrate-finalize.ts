/**
 * migrate_device_finalize() (mm/migrate_device.c): the last step of every device migration.
 */
import { type PhysicalMemory, removeMigrationPtes } from '@hmmkit/mm';
import { MIGRATE_PFN_MIGRATE, migratePfnToPage } from './migrate-pfn.js';

/**
 * Points every migration entry at the new page (or back at the old one where the page did
 * not migrate), unlocks and releases the old pages and the destination pages' allocation
 * references. Old pages are freed once nothing else holds them (device pages go back to
 * their driver through pageFree()).
 * **Locking**: no spinlock held; never sleeps. `faultPage` (-1 for none) is locked by its
 * caller, do_swap_page(), which unlocks it after migrateToRam(): it is released, not unlocked.
 */
export function migrateFinalize(
  memory: PhysicalMemory,
  src: Float64Array,
  dst: Float64Array,
  npages: number,
  faultPage: number,
): void {
  for (let i = 0; i < npages; i++) {
    const page = migratePfnToPage(src[i]!);
    let newPage = migratePfnToPage(dst[i]!);
    if (page < 0) {
      if (newPage >= 0) releaseNew(memory, newPage);
      continue;
    }
    if (!(src[i]! & MIGRATE_PFN_MIGRATE) || newPage < 0) {
      if (newPage >= 0) releaseNew(memory, newPage);
      newPage = page;
    }
    removeMigrationPtes(memory, page, newPage);
    if (page !== faultPage) memory.unlockPage(page);
    memory.putPage(page);
    if (newPage !== page) releaseNew(memory, newPage);
  }
}

function releaseNew(memory: PhysicalMemory, pfn: number): void {
  memory.unlockPage(pfn);
  memory.putPage(pfn);
}
