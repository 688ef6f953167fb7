/**
 * Migration entries (mm/rmap.c, mm/migrate.c): every mapping of a page becomes a migration
 * entry before its contents move, and every migration entry becomes a mapping of the new
 * page (or of the old one, to undo) afterwards. Shared by migratePage() and @hmmkit/hmm's
 * migrate_vma.
 *
 * Page bookkeeping, as in the kernel: a migration entry holds neither a mapcount nor a
 * reference (the migration holds its own reference and the page lock); a present PTE, a
 * device-private entry and a device-exclusive entry (v6.15+) hold one of each.
 *
 * Locking: entries change under `mm.ptl`; the caller holds the page lock of the old page
 * (and of the new one when restoring).
 */
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE } from './constants.js';
import type { Mm } from './mm.js';
import { PG_DIRTY } from './page-flags.js';
import type { PhysicalMemory } from './physical-memory.js';
import {
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SOFT_DIRTY,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
  SWP_WRITE,
  swpBits,
} from './pte.js';
import { ptepClearFlush, setPteAt } from './pte-edit.js';
import { rmapWalk } from './rmap.js';

function checkPfn(memory: PhysicalMemory, name: string, pfn: number): void {
  if (!memory.validPfn(pfn)) throw new KernelError('EINVAL', `${name} ${pfn} is not a known frame`);
}

function isMapping(kind: PteKind): boolean {
  return (
    kind === PteKind.PRESENT || kind === PteKind.DEVICE_PRIVATE || kind === PteKind.DEVICE_EXCLUSIVE
  );
}

/**
 * Replaces the mapping of `pfn` at `addr` by a migration entry, dropping its mapcount and
 * reference; returns whether it did (false when the entry no longer maps `pfn`).
 * Mirrors the per-PTE body of try_to_migrate_one() (and the unmap half of
 * migrate_vma_collect_pmd()).
 *
 * A present PTE is cleared with a flush and gives its write bit (its dirty bit goes to the
 * page); a device-private entry is cleared with a flush and gives its write bit; a
 * device-exclusive entry is non-present (nothing to flush, the page already holds the dirty
 * bit) and gives a read-only entry: the page stays anon-exclusive, so a later write reuses it
 * without a copy.
 *
 * **Locking**: `mm.ptl` held; the caller holds the page lock of `pfn` and has started the
 * notifier range covering `addr`; never sleeps.
 * @throws KernelError EINVAL when `pfn` is not a known frame or `addr` is not page-aligned.
 */
export function unmapToMigrationLocked(mm: Mm, addr: number, pfn: number): boolean {
  mm.ptl.assertHeld();
  const memory = mm.memory;
  checkPfn(memory, 'pfn', pfn);
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `addr must be a page-aligned address, got ${addr}`);
  const slot = mm.pt.pteSlot(addr, false);
  if (slot < 0 || mm.pt.pfn[slot] !== pfn) return false;
  const bits = mm.pt.bits[slot]!;
  const kind = pteKind(bits);
  if (!isMapping(kind)) return false;
  let writable = false;
  if (kind === PteKind.PRESENT) {
    writable = (bits & PTE_WRITE) !== 0;
    ptepClearFlush(mm, addr);
    if (bits & PTE_DIRTY) memory.flags[pfn]! |= PG_DIRTY;
  } else if (kind === PteKind.DEVICE_PRIVATE) {
    writable = (bits & SWP_WRITE) !== 0;
    ptepClearFlush(mm, addr);
  }
  setPteAt(mm, addr, pfn, swpBits(PteKind.MIGRATION, writable, (bits & PTE_SOFT_DIRTY) !== 0));
  memory.mapcount[pfn]!--;
  memory.putPage(pfn);
  return true;
}

/**
 * Turns every mapping of `pfn` (present, device-private or device-exclusive, in any address
 * space) into a migration entry, each under a one-page MMU_NOTIFY_CLEAR range (CLEAR, not
 * MIGRATE: MIGRATE belongs to migrate_vma). Returns whether the page is unmapped afterwards.
 * Mirrors try_to_migrate() / try_to_migrate_one().
 *
 * **Locking**: the caller holds the page lock of `pfn`; takes each mm's PTL; may sleep
 * (notifiers), so not from an invalidation callback. No mmap_lock needed.
 * @throws KernelError EINVAL when `pfn` is not a known frame.
 */
export async function tryToMigrate(memory: PhysicalMemory, pfn: number): Promise<boolean> {
  for (const hit of rmapWalk(memory, pfn)) {
    if (!isMapping(hit.kind)) continue;
    const { mm, address } = hit;
    const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, address, address + PAGE_SIZE);
    mm.ptl.lock();
    unmapToMigrationLocked(mm, address, pfn);
    mm.ptl.unlock();
    await mm.notifiers.invalidateRangeEnd(range);
  }
  return memory.mapcount[pfn] === 0;
}

/**
 * Turns every migration entry of `old` into a mapping of `dst` (which may equal `old`, to
 * undo): a device-private entry when `dst` is device-private memory, a present young PTE
 * otherwise, writable (and dirty) if the entry was, keeping soft-dirty. Each takes a
 * mapcount and a reference of `dst`. No notifier: non-present to present needs none.
 * Mirrors remove_migration_ptes() / remove_migration_pte().
 *
 * **Locking**: the caller holds the page locks of `old` and `dst`; takes each mm's PTL;
 * never sleeps.
 * @throws KernelError EINVAL when `old` or `dst` is not a known frame.
 */
export function removeMigrationPtes(memory: PhysicalMemory, old: number, dst: number): void {
  checkPfn(memory, 'dst', dst);
  const toPrivate = memory.pagemapOf(dst)?.type === 'private';
  for (const hit of rmapWalk(memory, old)) {
    if (hit.kind !== PteKind.MIGRATION) continue;
    const { mm, address } = hit;
    mm.ptl.lock();
    const slot = mm.pt.pteSlot(address, false);
    const bits = slot >= 0 ? mm.pt.bits[slot]! : 0;
    if (pteKind(bits) === PteKind.MIGRATION && mm.pt.pfn[slot] === old) {
      const write = (bits & SWP_WRITE) !== 0;
      const soft = bits & PTE_SOFT_DIRTY;
      const next = toPrivate
        ? swpBits(PteKind.DEVICE_PRIVATE, write, soft !== 0)
        : PTE_PRESENT | PTE_YOUNG | soft | (write ? PTE_WRITE | PTE_DIRTY : 0);
      setPteAt(mm, address, dst, next);
      memory.getPage(dst);
      memory.mapcount[dst]!++;
    }
    mm.ptl.unlock();
  }
}
