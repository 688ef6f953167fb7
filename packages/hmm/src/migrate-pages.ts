/**
 * __migrate_device_pages() and migrate_vma_insert_page() (mm/migrate_device.c): move each
 * selected page's identity (anon rmap, index, flags) to the destination page the driver
 * allocated and filled, or install the destination directly where the source had no page.
 * The data copy is the driver's, done between setup and this step.
 */
import {
  anonVmaPrepare,
  type Mm,
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_DIRTY,
  PG_FILE,
  PG_SWAPBACKED,
  type PhysicalMemory,
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  ptepClearFlush,
  setPteAt,
  swpBits,
  VM_WRITE,
  type Vma,
  ZERO_PFN,
} from '@hmmkit/mm';
import { MIGRATE_PFN_MIGRATE, migratePfnClear, migratePfnToPage } from './migrate-pfn.js';
import { migrateCheckPage } from './migrate-unmap.js';

const ANON_FLAGS = PG_ANON | PG_SWAPBACKED | PG_ANON_EXCLUSIVE | PG_DIRTY;

/**
 * Migrates page `i` of `src` to `dst[i]` when both exist, clearing MIGRATE_PFN_MIGRATE in
 * `src[i]` when it cannot. Returns whether the pair was handled (false: no source page).
 */
export function migrateOnePage(
  memory: PhysicalMemory,
  src: Float64Array,
  dst: Float64Array,
  i: number,
  faultPage: number,
): boolean {
  const page = migratePfnToPage(src[i]!);
  const newPage = migratePfnToPage(dst[i]!);
  if (newPage < 0) {
    src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    return true;
  }
  if (page < 0) return false;
  if (!(src[i]! & MIGRATE_PFN_MIGRATE)) return true;
  // Page-cache pages cannot move to device memory; page-cache migration is not modelled.
  const ok = !(memory.flags[page]! & PG_FILE) && migrateCheckPage(memory, page, faultPage);
  if (ok) migrateFolioMapping(memory, page, newPage);
  else src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
  return true;
}

/** folio_migrate_mapping() + folio_migrate_flags(): the new page takes the old identity. */
function migrateFolioMapping(memory: PhysicalMemory, page: number, newPage: number): void {
  const keep = memory.flags[newPage]! & ~ANON_FLAGS;
  memory.flags[newPage] = keep | (memory.flags[page]! & ANON_FLAGS);
  memory.mapping[newPage] = memory.mapping[page]!;
  memory.index[newPage] = memory.index[page]!;
}

/**
 * migrate_vma_insert_page(): maps the new page at `addr` where the source had none (or the
 * zero page). Fails, clearing MIGRATE_PFN_MIGRATE, when the VMA is not anonymous or the
 * entry changed since collection (a CPU fault won the race).
 * **Locking**: mmap_lock held; takes `mm.ptl`; never sleeps.
 */
export function migrateVmaInsertPage(
  mm: Mm,
  vma: Vma,
  addr: number,
  newPage: number,
  src: Float64Array,
  i: number,
): void {
  const memory = mm.memory;
  const slot = vma.isAnonymous ? mm.pt.pteSlot(addr, true) : -1;
  if (slot < 0) {
    src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    return;
  }
  const writable = (vma.flags & VM_WRITE) !== 0;
  const isPrivate = memory.pagemapOf(newPage)?.type === 'private';
  const bits = isPrivate
    ? swpBits(PteKind.DEVICE_PRIVATE, writable)
    : PTE_PRESENT | PTE_YOUNG | (writable ? PTE_WRITE | PTE_DIRTY : 0);
  mm.ptl.lock();
  const orig = mm.pt.bits[slot]!;
  const zero = orig === (orig | PTE_PRESENT | PTE_SPECIAL) && mm.pt.pfn[slot] === ZERO_PFN;
  if (orig !== 0 && !zero) {
    mm.ptl.unlock();
    src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    return;
  }
  memory.flags[newPage] =
    (memory.flags[newPage]! & ~ANON_FLAGS) | PG_ANON | PG_SWAPBACKED | PG_ANON_EXCLUSIVE;
  memory.mapping[newPage] = anonVmaPrepare(mm, vma);
  memory.index[newPage] = vma.pgoffOf(addr);
  memory.mapcount[newPage] = 1;
  memory.getPage(newPage);
  if (zero) ptepClearFlush(mm, addr);
  setPteAt(mm, addr, newPage, bits);
  mm.ptl.unlock();
  src[i] = MIGRATE_PFN_MIGRATE;
}
