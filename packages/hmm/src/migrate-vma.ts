/**
 * migrate_vma_setup / migrate_vma_pages / migrate_vma_finalize (mm/migrate_device.c): a
 * driver moves the pages of part of one VMA between system memory and its device memory.
 *
 * The three steps, and what the driver does between them:
 *
 * | step               | kernel                  | effect                                           |
 * | ------------------ | ----------------------- | ------------------------------------------------ |
 * | migrateVmaSetup    | migrate_vma_setup()     | MMU_NOTIFY_MIGRATE (owner = pgmapOwner); selected pages locked, referenced and replaced by migration entries; `src` filled |
 * | (driver)           | alloc + copy            | allocates and locks dst pages, copies data, fills `dst` with migratePfn(dst) |
 * | migrateVmaPages    | migrate_vma_pages()     | dst pages take the old pages' identity; holes get the new page mapped; a lost race clears MIGRATE_PFN_MIGRATE |
 * | (driver)           | update device tables    |                                                  |
 * | migrateVmaFinalize | migrate_vma_finalize()  | migration entries become mappings of dst (or of src again), pages unlocked and released |
 *
 * CPU faults on a migration entry wait for the page lock, so a collected page cannot be
 * touched until finalize; a hole (pte_none or zero page) is not locked by anything and a CPU
 * fault may fill it first, which migrateVmaPages detects.
 */
import {
  type Mm,
  PAGE_SIZE,
  PG_ZONE_DEVICE,
  PMD_SIZE,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  PteKind,
  pteKind,
  SWP_WRITE,
  splitHugePmd,
  unmapToMigrationLocked,
  VM_HUGETLB,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  type Vma,
  ZERO_PFN,
} from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { KernelError, mightSleep } from '@hmmkit/runtime';
import { migrateFinalize } from './migrate-finalize.js';
import { migrateOnePage, migrateVmaInsertPage } from './migrate-pages.js';
import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  migratePfn,
  migratePfnToPage,
} from './migrate-pfn.js';
import { migrateDeviceUnmap } from './migrate-unmap.js';

/** Select pages in system memory (MIGRATE_VMA_SELECT_SYSTEM). */
export const MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
/** Select device-private pages of `pgmapOwner` (MIGRATE_VMA_SELECT_DEVICE_PRIVATE). */
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
/** Select device-coherent pages of `pgmapOwner` (MIGRATE_VMA_SELECT_DEVICE_COHERENT). */
export const MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
const SELECT_ALL =
  MIGRATE_VMA_SELECT_SYSTEM |
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
  MIGRATE_VMA_SELECT_DEVICE_COHERENT;

/**
 * One migration of [start, end) of one VMA. Mirrors struct migrate_vma, plus `mm` (the
 * kernel's vma->vm_mm). `src`, `dst` hold one migrate pfn per page (see migrate-pfn.ts).
 */
export interface MigrateVma {
  /** Address space of `vma` (vma->vm_mm). */
  mm: Mm;
  vma: Vma;
  /** Page aligned, inside `vma`. */
  start: number;
  /** Page aligned, inside `vma`; setup lowers it to the last page collected. */
  end: number;
  /** Filled by setup: the source pages and flags. */
  src: Float64Array;
  /** Filled by the driver before migrateVmaPages: migratePfn(new page) or 0. */
  dst: Float64Array;
  /** Set by setup: pages selected for migration (MIGRATE_PFN_MIGRATE set). */
  cpages: number;
  /** Set by setup: entries of `src` written. */
  npages: number;
  /** Owner of the device pages involved; sent as the MMU_NOTIFY_MIGRATE owner. */
  pgmapOwner: unknown;
  /** MIGRATE_VMA_SELECT_* bits. */
  flags: number;
  /**
   * The device-private page whose CPU fault runs this migration (migrateToRam), if any; the
   * fault path holds its lock for the whole migration.
   */
  faultPage?: number;
}

function checkArgs(args: MigrateVma): void {
  if (typeof args !== 'object' || args === null)
    throw new KernelError('EINVAL', `args must be a MigrateVma, got ${String(args)}`);
  const { vma, start, end, src, dst, mm } = args;
  if (mm === undefined || vma === undefined || mm.vmas.indexOf(vma) < 0)
    throw new KernelError('EINVAL', 'args.vma must be a VMA of args.mm');
  if (vma.flags & (VM_HUGETLB | VM_IO | VM_PFNMAP | VM_MIXEDMAP))
    throw new KernelError('EINVAL', `args.vma has flags ${vma.flags} (hugetlb or VM_SPECIAL)`);
  if (!Number.isSafeInteger(start) || start % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `args.start must be page aligned, got ${start}`);
  if (!Number.isSafeInteger(end) || end % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `args.end must be page aligned, got ${end}`);
  if (end <= start) throw new KernelError('EINVAL', `args.end ${end} must be above start ${start}`);
  if (start < vma.start || start >= vma.end || end > vma.end)
    throw new KernelError('EINVAL', `[${start}, ${end}) is not inside the VMA`);
  const npages = (end - start) / PAGE_SIZE;
  if (!(src instanceof Float64Array) || src.length < npages)
    throw new KernelError('EINVAL', `args.src must be a Float64Array of >= ${npages} entries`);
  if (!(dst instanceof Float64Array) || dst.length < npages)
    throw new KernelError('EINVAL', `args.dst must be a Float64Array of >= ${npages} entries`);
  if (!Number.isInteger(args.flags) || args.flags & ~SELECT_ALL)
    throw new KernelError('EINVAL', `args.flags must be MIGRATE_VMA_SELECT_* bits`);
  const fp = args.faultPage;
  if (fp !== undefined && mm.memory.pagemapOf(fp)?.type !== 'private')
    throw new KernelError('EINVAL', `args.faultPage ${fp} is not a device-private page`);
}

/**
 * Collects the pages of [start, end) that `flags` selects, locks them and replaces their
 * mappings by migration entries, filling `src`. Mirrors migrate_vma_setup().
 *
 * **Details**: pte_none entries of an anonymous VMA and the zero page (with
 * SELECT_SYSTEM) give `src[i] = MIGRATE_PFN_MIGRATE` without a pfn: the driver provides a
 * cleared page. Unselected entries give 0. Pages that cannot be locked, or are referenced
 * or pinned by someone else, are dropped (src 0). `cpages` counts selected pages.
 *
 * **Locking**: the caller holds the mmap_lock (read; asserted); may sleep. Sends
 * MMU_NOTIFY_MIGRATE with owner `pgmapOwner` over [start, end), so the caller's own
 * notifier can skip invalidating its device-private pages. `faultPage` must already be
 * locked by the caller (do_swap_page() locks it around migrateToRam()); it is referenced
 * but not locked again, and no step of the migration unlocks it.
 *
 * @throws KernelError EINVAL for bad arguments (unaligned, empty range, range outside the
 * VMA, hugetlb or VM_IO/VM_PFNMAP/VM_MIXEDMAP VMA, short arrays, a faultPage that is not
 * device-private).
 */
export async function migrateVmaSetup(args: MigrateVma): Promise<void> {
  checkArgs(args);
  args.mm.mmapLock.assertHeld();
  mightSleep('migrate_vma_setup');
  args.src.fill(0, 0, (args.end - args.start) / PAGE_SIZE);
  args.cpages = 0;
  args.npages = 0;
  await migrateVmaCollect(args);
  const fp = args.faultPage ?? -1;
  if (args.cpages)
    args.cpages -= await migrateDeviceUnmap(args.mm.memory, args.src, args.npages, fp);
}

/**
 * migrate_vma_collect(): the walk under one MMU_NOTIFY_MIGRATE range. Huge PMDs are split
 * first (the kernel splits them from inside the walk; mm's split sends its own
 * MMU_NOTIFY_CLEAR, so it runs before the MIGRATE range opens).
 */
async function migrateVmaCollect(args: MigrateVma): Promise<void> {
  const { mm, start, end } = args;
  for (let a = start; a < end; a = (Math.floor(a / PMD_SIZE) + 1) * PMD_SIZE)
    await splitHugePmd(mm, a);
  const range = await mm.invalidateStart(MmuNotifierEvent.MIGRATE, start, end, args.pgmapOwner);
  mm.ptl.lock();
  for (let addr = start; addr < end; addr += PAGE_SIZE) collectOne(args, addr);
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
  args.end = args.start + args.npages * PAGE_SIZE;
}

/** migrate_vma_collect_pmd() for one entry. **Locking**: `mm.ptl` held. */
function collectOne(args: MigrateVma, addr: number): void {
  const { mm } = args;
  const memory = mm.memory;
  const i = args.npages++;
  args.dst[i] = 0;
  let mpfn = selectEntry(args, addr);
  const page = migratePfnToPage(mpfn);
  if (page >= 0) {
    if (memory.mapping[page] === 0 || !memory.tryGetPage(page)) mpfn = 0;
    // The fault page is locked by do_swap_page() around migrateToRam(): taking it again
    // would fail, and the caller keeps the lock until after finalize.
    else if (page !== args.faultPage && !memory.trylockPage(page)) {
      memory.putPage(page);
      mpfn = 0;
    } else unmapToMigrationLocked(mm, addr, page);
  }
  if (mpfn & MIGRATE_PFN_MIGRATE) args.cpages++;
  args.src[i] = mpfn;
}

/** Which migrate pfn the entry at `addr` gives, before locking. **Locking**: `mm.ptl` held. */
function selectEntry(args: MigrateVma, addr: number): number {
  const { mm, vma, flags } = args;
  const memory = mm.memory;
  const slot = mm.pt.pteSlot(addr, false);
  if (slot === -2) return 0; // a PMD leaf that appeared after the split: skipped
  const bits = slot < 0 ? 0 : mm.pt.bits[slot]!;
  const pfn = slot < 0 ? 0 : mm.pt.pfn[slot]!;
  if (bits === 0) return vma.isAnonymous ? MIGRATE_PFN_MIGRATE : 0;
  if (bits & PTE_PRESENT) {
    if (bits & PTE_SPECIAL) {
      const zero = pfn === ZERO_PFN && flags & MIGRATE_VMA_SELECT_SYSTEM;
      return zero ? MIGRATE_PFN_MIGRATE : 0;
    }
    const pgmap = memory.flags[pfn]! & PG_ZONE_DEVICE ? memory.pagemapOf(pfn) : undefined;
    if (pgmap === undefined && !(flags & MIGRATE_VMA_SELECT_SYSTEM)) return 0;
    if (pgmap !== undefined) {
      const ok = flags & MIGRATE_VMA_SELECT_DEVICE_COHERENT && pgmap.owner === args.pgmapOwner;
      if (!ok) return 0;
    }
    return migratePfn(pfn) | MIGRATE_PFN_MIGRATE | (bits & PTE_WRITE ? MIGRATE_PFN_WRITE : 0);
  }
  if (pteKind(bits) !== PteKind.DEVICE_PRIVATE) return 0;
  if (!(flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE)) return 0;
  if (memory.pagemapOf(pfn)?.owner !== args.pgmapOwner) return 0;
  return migratePfn(pfn) | MIGRATE_PFN_MIGRATE | (bits & SWP_WRITE ? MIGRATE_PFN_WRITE : 0);
}

/**
 * Moves each selected page's identity to the driver's `dst` page, and maps `dst` where the
 * source had no page. Entries whose migration is impossible lose MIGRATE_PFN_MIGRATE in
 * `src` (no dst given, a CPU fault filled a hole first, page-cache page, extra reference).
 * Mirrors migrate_vma_pages().
 *
 * **Locking**: the caller holds the mmap_lock (read; asserted); may sleep. Sends
 * MMU_NOTIFY_MIGRATE (owner `pgmapOwner`) from the first hole to `end` before filling holes.
 * @throws KernelError EINVAL when `args` was not set up.
 */
export async function migrateVmaPages(args: MigrateVma): Promise<void> {
  checkArgs(args);
  const { mm, vma, src, dst, start, npages } = args;
  mm.mmapLock.assertHeld();
  mightSleep('migrate_vma_pages');
  const fp = args.faultPage ?? -1;
  let range: Awaited<ReturnType<Mm['invalidateStart']>> | undefined;
  for (let i = 0; i < npages; i++) {
    if (migrateOnePage(mm.memory, src, dst, i, fp)) continue;
    if (!(src[i]! & MIGRATE_PFN_MIGRATE)) continue;
    const addr = start + i * PAGE_SIZE;
    range ??= await mm.invalidateStart(MmuNotifierEvent.MIGRATE, addr, args.end, args.pgmapOwner);
    migrateVmaInsertPage(mm, vma, addr, migratePfnToPage(dst[i]!), src, i);
  }
  if (range !== undefined) await mm.notifiers.invalidateRangeEnd(range);
}

/**
 * Ends the migration: mappings point at the new pages where the page migrated and at the
 * old ones elsewhere; all pages are unlocked and the old ones released, except that
 * `faultPage` stays locked for do_swap_page() to unlock. Mirrors migrate_vma_finalize().
 * **Locking**: no spinlock; never sleeps; the mmap_lock is not needed.
 */
export function migrateVmaFinalize(args: MigrateVma): void {
  migrateFinalize(args.mm.memory, args.src, args.dst, args.npages, args.faultPage ?? -1);
}
