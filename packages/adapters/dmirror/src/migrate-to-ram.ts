/**
 * Device memory back to system memory on a CPU fault on a device-private page
 * (dmirror_devmem_fault(), the pagemap's migrate_to_ram). Unlike the pool's default
 * migrate_to_ram it drops the migrating file's device entry. MIGRATE_TO_SYS shares the copy
 * step with the fault.
 */
import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { PAGE_SIZE, type PhysicalMemory, VM_FAULT_SIGBUS, type VmFault } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import type { Dmirror } from './dmirror.js';
import type { DmirrorDevice } from './dmirror-device.js';

/** A fresh, locked system page holding a copy of `spage`, or -1 (alloc_page + copy_highpage). */
function copyToSystemPage(memory: PhysicalMemory, spage: number): number {
  const dpage = memory.allocPage();
  if (dpage < 0) return -1;
  memory.trylockPage(dpage);
  memory.copyPage(dpage, spage);
  return dpage;
}

/** The destination entry for `dpage`, writable when the source entry was. */
function dstEntry(dpage: number, src: number): number {
  return migratePfn(dpage) + (src & MIGRATE_PFN_WRITE ? MIGRATE_PFN_WRITE : 0);
}

/**
 * Allocates system pages for the selected device pages of `args`, copies them and drops
 * their entries from `dmirror`'s device page table. Mirrors
 * dmirror_devmem_fault_alloc_and_copy().
 * **Context**: never sleeps. `dmirror` undefined: the file that migrated the page is closed.
 */
export function devmemAllocAndCopy(args: MigrateVma, dmirror: Dmirror | undefined): void {
  const memory = args.mm.memory;
  for (let i = 0; i < args.npages; i++) {
    const src = args.src[i]!;
    const spage = migratePfnToPage(src);
    if (spage < 0 || !(src & MIGRATE_PFN_MIGRATE)) continue;
    if (memory.pagemapOf(spage) === undefined) continue; // the kernel WARNs: not device memory
    const dpage = copyToSystemPage(memory, spage);
    if (dpage < 0) continue;
    dmirror?.erasePage(args.start + i * PAGE_SIZE);
    args.dst[i] = dstEntry(dpage, src);
  }
}

/**
 * migrate_to_ram(): a CPU access hit a device-private entry of `dev`; migrates that one page
 * back. Returns 0 (retry the access) or VM_FAULT_SIGBUS when migrate_vma_setup() fails.
 * Mirrors dmirror_devmem_fault().
 * **Context**: the fault path holds the mmap_lock for read; may sleep.
 */
export async function devmemFault(dev: DmirrorDevice, vmf: VmFault): Promise<number> {
  const args: MigrateVma = {
    mm: vmf.mm,
    vma: vmf.vma,
    start: vmf.address,
    end: vmf.address + PAGE_SIZE,
    src: new Float64Array(1),
    dst: new Float64Array(1),
    cpages: 0,
    npages: 0,
    pgmapOwner: dev,
    flags: dev.selectFlags,
    faultPage: vmf.pfn,
  };
  try {
    await migrateVmaSetup(args);
  } catch (err) {
    if (err instanceof KernelError) return VM_FAULT_SIGBUS;
    throw err;
  }
  devmemAllocAndCopy(args, dev.mirrorOf(vmf.pfn));
  await migrateVmaPages(args);
  // No device-side finalize: devmemAllocAndCopy() already dropped the device entry.
  migrateVmaFinalize(args);
  return 0;
}
