/**
 * A tiny test device with private (or coherent) memory: a DevicePagePool from @hmmkit/hmm,
 * a migrate-to-device ioctl built on migrate_vma, the pool's migrate_to_ram for CPU faults
 * (counted) and its eviction. Data moves with memory.copyPage(), standing for the DMA copy.
 */

import {
  DevicePagePool,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import type { Mm, PhysicalMemory } from '@hmmkit/mm';

const PAGE = 4096;

export class TinyDevice {
  readonly pool: DevicePagePool;
  /** CPU faults served by migrateToRam. */
  faults = 0;
  /** Called between migrateVmaSetup and migrateVmaPages of migrateToDevice (race hook). */
  beforePages: (() => Promise<void>) | undefined;
  readonly firstPfn: number;

  constructor(
    readonly memory: PhysicalMemory,
    readonly nrPages: number,
    readonly type: 'private' | 'coherent' = 'private',
    readonly owner: unknown = { name: 'tiny-device' },
  ) {
    this.pool = new DevicePagePool(memory, {
      nrPages,
      owner,
      type,
      migrateToRam: (vmf) => {
        this.faults++;
        return this.pool.migrateToRam(vmf);
      },
    });
    this.firstPfn = this.pool.pagemap.firstPfn;
  }

  /** Migrates [addr, addr + npages pages) of `mm` to device memory; returns pages moved. */
  async migrateToDevice(mm: Mm, addr: number, npages: number): Promise<MigrateVma> {
    await mm.mmapLock.downRead();
    try {
      const vma = mm.vmaLookup(addr);
      if (vma === undefined) throw new Error(`no VMA at ${addr}`);
      const args: MigrateVma = {
        mm,
        vma,
        start: addr,
        end: addr + npages * PAGE,
        src: new Float64Array(npages),
        dst: new Float64Array(npages),
        cpages: 0,
        npages: 0,
        pgmapOwner: this.owner,
        flags: MIGRATE_VMA_SELECT_SYSTEM,
      };
      await migrateVmaSetup(args);
      for (let i = 0; i < args.npages; i++) {
        if (!(args.src[i]! & MIGRATE_PFN_MIGRATE)) continue;
        const dpage = this.pool.allocPage();
        if (dpage < 0) continue;
        const spage = migratePfnToPage(args.src[i]!);
        if (spage >= 0) this.memory.copyPage(dpage, spage);
        args.dst[i] = migratePfn(dpage);
      }
      if (this.beforePages) await this.beforePages();
      await migrateVmaPages(args);
      migrateVmaFinalize(args);
      return args;
    } finally {
      mm.mmapLock.upRead();
    }
  }

  /** Evicts every in-use device page to system memory (device removal). */
  evictAll(): Promise<number> {
    return this.pool.evict();
  }
}
