/**
 * HMM_DMIRROR_MIGRATE_TO_DEV and HMM_DMIRROR_MIGRATE_TO_SYS: migrate_vma over the range, one
 * VMA-bounded chunk of DMIRROR_CHUNK_PAGES at a time, as dmirror_migrate_to_device() and
 * dmirror_migrate_to_system() do.
 *
 *   per chunk (mmap_lock read held for the whole range)
 *   ---------------------------------------------------
 *   vma_lookup(addr): none or no VM_READ  -> EINVAL
 *   migrate_vma_setup(owner = device)       MMU_NOTIFY_MIGRATE: our own notifier skips it
 *   alloc + copy (or clear a hole)          dmirror_migrate_alloc_and_copy()
 *   migrate_vma_pages()
 *   map what migrated, under the mutex      dmirror_migrate_finalize_and_map()
 *   migrate_vma_finalize()
 */
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE } from '@hmmkit/device';
import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { type Mm, PAGE_SIZE, VM_READ, VM_WRITE } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import { DMIRROR_CHUNK_PAGES } from './constants.js';
import type { Dmirror } from './dmirror.js';
import { devmemAllocAndCopy } from './migrate-to-ram.js';

/** One step of the per-chunk loop: the driver's work between setup and finalize. */
type ChunkStep = (args: MigrateVma) => Promise<void> | void;

/**
 * Runs migrate_vma over [start, end) of `dmirror`'s mm in VMA-bounded chunks, with `step`
 * between migrate_vma_setup() and migrate_vma_finalize().
 * @throws KernelError EINVAL (mm gone, hole or unreadable VMA, setup refusing the VMA).
 */
async function forEachChunk(
  dmirror: Dmirror,
  start: number,
  end: number,
  flags: number,
  step: ChunkStep,
): Promise<void> {
  const mm = dmirror.mm;
  if (!mm.mmgetNotZero()) throw new KernelError('EINVAL', `mm ${mm.id} has exited`);
  const src = new Float64Array(DMIRROR_CHUNK_PAGES);
  const dst = new Float64Array(DMIRROR_CHUNK_PAGES);
  await mm.mmapLock.downRead();
  try {
    for (let addr = start, next = 0; addr < end; addr = next) {
      const vma = lookupReadable(mm, addr);
      next = Math.min(end, addr + DMIRROR_CHUNK_PAGES * PAGE_SIZE, vma.end);
      const args: MigrateVma = {
        mm,
        vma,
        start: addr,
        end: next,
        src,
        dst,
        cpages: 0,
        npages: 0,
        pgmapOwner: dmirror.device,
        flags,
      };
      await migrateVmaSetup(args);
      await step(args);
      migrateVmaFinalize(args);
    }
  } finally {
    mm.mmapLock.upRead();
    await mm.mmput();
  }
}

function lookupReadable(mm: Mm, addr: number) {
  const vma = mm.vmaLookup(addr);
  if (vma === undefined || !(vma.flags & VM_READ))
    throw new KernelError('EINVAL', `no readable VMA at 0x${addr.toString(16)}`);
  return vma;
}

/**
 * Gives each selected system page (or hole) a device page holding its data. Mirrors
 * dmirror_migrate_alloc_and_copy(). **Context**: never sleeps.
 */
function allocAndCopy(args: MigrateVma, dmirror: Dmirror): void {
  const memory = args.mm.memory;
  for (let i = 0; i < args.npages; i++) {
    const src = args.src[i]!;
    if (!(src & MIGRATE_PFN_MIGRATE)) continue;
    const spage = migratePfnToPage(src);
    if (spage >= 0 && memory.pagemapOf(spage) !== undefined) continue; // the kernel WARNs
    const dpage = dmirror.device.allocPage(dmirror);
    if (dpage < 0) continue;
    if (spage >= 0) memory.copyPage(dpage, spage);
    else memory.contents[dpage] = undefined; // clear_highpage()
    const writable = src & MIGRATE_PFN_WRITE || (spage < 0 && args.vma.flags & VM_WRITE);
    args.dst[i] = migratePfn(dpage) + (writable ? MIGRATE_PFN_WRITE : 0);
  }
}

/**
 * Maps the pages that migrated into the device page table, WRITE when the destination is
 * writable. Mirrors dmirror_migrate_finalize_and_map(). **Locking**: takes the mutex.
 */
async function finalizeAndMap(args: MigrateVma, dmirror: Dmirror): Promise<void> {
  await dmirror.mutex.lock();
  try {
    dmirror.program(args.start, args.end, (i, out) => {
      if (!(args.src[i]! & MIGRATE_PFN_MIGRATE)) return false;
      out.pfn = migratePfnToPage(args.dst[i]!);
      out.perms = DEVICE_PTE_READ | (args.dst[i]! & MIGRATE_PFN_WRITE ? DEVICE_PTE_WRITE : 0);
      return out.pfn >= 0;
    });
  } finally {
    dmirror.mutex.unlock();
  }
}

/**
 * Migrates the system pages of [start, end) into `dmirror`'s device memory and maps them in
 * its page table. The caller reads the range back. Mirrors the loop of
 * dmirror_migrate_to_device().
 * @throws KernelError EINVAL (mm gone, no readable VMA at a chunk start, VMA refused by
 * migrate_vma_setup()).
 */
export async function migrateRangeToDevice(
  dmirror: Dmirror,
  start: number,
  end: number,
): Promise<void> {
  await forEachChunk(dmirror, start, end, MIGRATE_VMA_SELECT_SYSTEM, async (args) => {
    allocAndCopy(args, dmirror);
    await migrateVmaPages(args);
    await finalizeAndMap(args, dmirror);
  });
}

/**
 * Migrates `dmirror`'s device pages in [start, end) back to system memory; returns how many
 * moved. Mirrors dmirror_migrate_to_system() with dmirror_successful_migrated_pages().
 * @throws KernelError EINVAL as migrateRangeToDevice().
 */
export async function migrateRangeToSystem(
  dmirror: Dmirror,
  start: number,
  end: number,
): Promise<number> {
  let cpages = 0;
  await forEachChunk(dmirror, start, end, dmirror.device.selectFlags, async (args) => {
    devmemAllocAndCopy(args, dmirror);
    await migrateVmaPages(args);
    for (let i = 0; i < args.npages; i++)
      if (args.src[i]! & MIGRATE_PFN_VALID && args.src[i]! & MIGRATE_PFN_MIGRATE) cpages++;
  });
  return cpages;
}
