/**
 * Migration entries for device migration: turning a mapping of a page into a migration entry
 * (the unmap half of migrate_vma_collect_pmd() and try_to_migrate_one()) and turning the
 * migration entries back into mappings of the new or the old page (remove_migration_ptes()).
 *
 * Page bookkeeping, as in the kernel: a migration entry holds neither a mapcount nor a
 * reference (the migration holds its own reference and the page lock); a device-private
 * entry and a present PTE of a normal page hold one of each.
 *
 * Locking: entries change under `mm.ptl`; the caller holds the page lock of the old page.
 */
import {
  type Mm,
  PG_DIRTY,
  type PhysicalMemory,
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SOFT_DIRTY,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
  ptepClearFlush,
  rmapWalk,
  SWP_WRITE,
  setPteAt,
  swpBits,
} from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';

const PAGE = 4096;

/**
 * Replaces the present PTE or device-private entry of `pfn` at `addr` by a migration entry
 * (writable if the mapping was), dropping its mapcount and reference. Returns whether it
 * did; false when the entry no longer maps `pfn`.
 * **Locking**: `mm.ptl` held; never sleeps.
 */
export function unmapToMigrationLocked(mm: Mm, addr: number, pfn: number): boolean {
  const slot = mm.pt.pteSlot(addr, false);
  if (slot < 0 || mm.pt.pfn[slot] !== pfn) return false;
  const bits = mm.pt.bits[slot]!;
  const kind = pteKind(bits);
  if (kind !== PteKind.PRESENT && kind !== PteKind.DEVICE_PRIVATE) return false;
  const memory = mm.memory;
  const writable = kind === PteKind.PRESENT ? bits & PTE_WRITE : bits & SWP_WRITE;
  ptepClearFlush(mm, addr);
  if (kind === PteKind.PRESENT && bits & PTE_DIRTY) memory.flags[pfn]! |= PG_DIRTY;
  setPteAt(
    mm,
    addr,
    pfn,
    swpBits(PteKind.MIGRATION, writable !== 0, (bits & PTE_SOFT_DIRTY) !== 0),
  );
  memory.mapcount[pfn]!--;
  memory.putPage(pfn);
  return true;
}

/**
 * try_to_migrate(): every remaining mapping of `pfn` (in any address space) becomes a
 * migration entry, each under a one-page MMU_NOTIFY_CLEAR range. Returns whether the page
 * is unmapped afterwards.
 * **Locking**: the caller holds the page lock; may sleep (notifiers).
 */
export async function tryToMigrate(memory: PhysicalMemory, pfn: number): Promise<boolean> {
  for (const hit of rmapWalk(memory, pfn)) {
    if (hit.kind !== PteKind.PRESENT && hit.kind !== PteKind.DEVICE_PRIVATE) continue;
    const { mm, address } = hit;
    const range = await mm.invalidateStart(MmuNotifierEvent.CLEAR, address, address + PAGE);
    mm.ptl.lock();
    unmapToMigrationLocked(mm, address, pfn);
    mm.ptl.unlock();
    await mm.notifiers.invalidateRangeEnd(range);
  }
  return memory.mapcount[pfn] === 0;
}

/**
 * remove_migration_ptes(): every migration entry of `old` becomes a mapping of `dst` (which
 * may equal `old` to undo): a device-private entry when `dst` is device-private memory, a
 * present PTE otherwise, writable if the entry was. Each takes a mapcount and a reference.
 * No notifier: non-present to present needs none.
 * **Locking**: the caller holds the page locks of `old` and `dst`; never sleeps.
 */
export function removeMigrationPtes(memory: PhysicalMemory, old: number, dst: number): void {
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
