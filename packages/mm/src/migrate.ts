/**
 * Migration of one page to a new frame through migration entries (migrate_pages →
 * migrate_folio_unmap / try_to_migrate / move_to_new_folio / remove_migration_ptes in
 * mm/migrate.c and mm/rmap.c). Each mapping is replaced by a migration entry under a
 * one-page MMU_NOTIFY_CLEAR range (try_to_migrate_one sends CLEAR, not MIGRATE: MIGRATE
 * belongs to migrate_vma); faults on it wait for the page lock; the contents move; the
 * entries become present PTEs of the new frame (no notifier: non-present to present).
 * Device-exclusive entries are mappings too (v6.15+): they become migration entries and come
 * back as ordinary present PTEs, so the device must ask for exclusivity again.
 */

import { schedulePoint, trace } from '@hmmkit/runtime';
import { removeMigrationPtes, tryToMigrate } from './migration-entries.js';
import { PG_ANON, PG_HUGETLB, PG_LOCKED, PG_ZONE_DEVICE } from './page-flags.js';
import { type PhysicalMemory, ZERO_PFN } from './physical-memory.js';
import { splitPmdMappings } from './rmap.js';

/**
 * Moves page `pfn` to a newly allocated frame. Returns the new pfn, or -1 when the page
 * cannot move now (-EAGAIN/-EBUSY/-ENOMEM in the kernel): not an anon page (page-cache
 * migration is not modelled), pinned, referenced beyond its mappings, or no free frame.
 * Device-coherent pages move to RAM (migrate_device_coherent_folio); device-private pages
 * are not mapped by present PTEs and are left to @hmmkit/hmm.
 * Mirrors migrate_pages() with MIGRATE_SYNC for one folio.
 * **Locking**: takes the page lock (sleeping) and each mm's PTL; may sleep. No mmap_lock.
 */
export async function migratePage(memory: PhysicalMemory, pfn: number): Promise<number> {
  if (!memory.validPfn(pfn) || pfn === ZERO_PFN) return -1;
  const f = memory.flags[pfn]!;
  const coherent = f & PG_ZONE_DEVICE && memory.pagemapOf(pfn)?.type === 'coherent';
  if (!(f & PG_ANON) || (f & PG_ZONE_DEVICE && !coherent) || f & PG_HUGETLB) return -1;
  if (!memory.tryGetPage(pfn)) return -1; // isolation reference (folio_isolate_lru)
  await memory.lockPage(pfn);
  trace('mm', 'migrate_page', { pfn });
  await splitPmdMappings(memory, pfn);
  const dst = movable(memory, pfn) ? memory.allocPage() : -1;
  if (dst < 0) {
    memory.unlockPage(pfn);
    memory.putPage(pfn);
    return -1;
  }
  // Since v6.15 a device-exclusive entry is a mapping like a present PTE: it is replaced
  // by a migration entry, and the CLEAR range (owner NULL) tells the device to drop it.
  await tryToMigrate(memory, pfn);
  await schedulePoint(); // the copy takes time: faults now wait on the migration entries
  moveToNewFolio(memory, pfn, dst);
  // A fresh rmap walk, as remove_migration_ptes does: fork may have copied an entry meanwhile.
  removeMigrationPtes(memory, pfn, dst);
  memory.unlockPage(pfn);
  memory.putPage(dst); // allocation reference; the mappings hold theirs
  memory.putPage(pfn); // isolation reference: the old frame is freed here
  return dst;
}

/** Still an anon page with no reference beyond its mappings and ours (folio_expected_refs). */
function movable(memory: PhysicalMemory, pfn: number): boolean {
  return (
    (memory.flags[pfn]! & PG_ANON) !== 0 &&
    memory.pincount[pfn] === 0 &&
    memory.refcount[pfn] === memory.mapcount[pfn]! + 1
  );
}

/** folio_migrate_mapping + folio_migrate_flags + copy: the new frame takes over. */
function moveToNewFolio(memory: PhysicalMemory, src: number, dst: number): void {
  memory.contents[dst] = memory.contents[src];
  memory.contents[src] = undefined;
  memory.flags[dst] = memory.flags[src]! & ~(PG_LOCKED | PG_ZONE_DEVICE);
  memory.mapping[dst] = memory.mapping[src]!;
  memory.index[dst] = memory.index[src]!;
}
