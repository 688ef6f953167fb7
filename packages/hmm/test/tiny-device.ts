/**
 * A tiny test device with private (or coherent) memory: a pool of ZONE_DEVICE pages, a
 * migrate-to-device ioctl built on migrate_vma, migrate_to_ram for CPU faults and eviction
 * through migrate_device_range. Data moves with memory.copyPage(), standing for the DMA copy.
 */

import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDeviceRange,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { type Mm, type PhysicalMemory, VM_FAULT_SIGBUS, type VmFault } from '@hmmkit/mm';

const PAGE = 4096;

export class TinyDevice {
  readonly free: number[] = [];
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
    const pgmap = memory.registerDevicePages({
      nrPages,
      owner,
      type,
      ops: {
        migrateToRam: (vmf) => this.migrateToRam(vmf),
        pageFree: (pfn) => this.free.push(pfn),
      },
    });
    this.firstPfn = pgmap.firstPfn;
    for (let i = nrPages - 1; i >= 0; i--) this.free.push(pgmap.firstPfn + i);
  }

  private allocDevicePage(): number {
    const pfn = this.free.pop();
    if (pfn === undefined) return -1;
    this.memory.zoneDevicePageInit(pfn);
    return pfn;
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
        const dpage = this.allocDevicePage();
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

  /** dev_pagemap_ops.migrate_to_ram: one page back to system memory. */
  async migrateToRam(vmf: VmFault): Promise<number> {
    this.faults++;
    const args: MigrateVma = {
      mm: vmf.mm,
      vma: vmf.vma,
      start: vmf.address,
      end: vmf.address + PAGE,
      src: new Float64Array(1),
      dst: new Float64Array(1),
      cpages: 0,
      npages: 0,
      pgmapOwner: this.owner,
      flags:
        this.type === 'private'
          ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE
          : MIGRATE_VMA_SELECT_DEVICE_COHERENT,
      faultPage: vmf.pfn,
    };
    await migrateVmaSetup(args);
    if (args.src[0]! & MIGRATE_PFN_MIGRATE) {
      const page = this.memory.allocPage();
      if (page < 0) return VM_FAULT_SIGBUS;
      this.memory.trylockPage(page);
      this.memory.copyPage(page, migratePfnToPage(args.src[0]!));
      args.dst[0] = migratePfn(page);
    }
    await migrateVmaPages(args);
    migrateVmaFinalize(args);
    return 0;
  }

  /** Evicts every in-use device page to system memory (device removal). */
  async evictAll(): Promise<number> {
    const n = this.nrPages;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    await migrateDeviceRange(this.memory, src, this.firstPfn, n);
    let moved = 0;
    for (let i = 0; i < n; i++) {
      if (!(src[i]! & MIGRATE_PFN_MIGRATE)) continue;
      const page = this.memory.allocPage();
      if (page < 0) continue;
      this.memory.trylockPage(page);
      this.memory.copyPage(page, migratePfnToPage(src[i]!));
      dst[i] = migratePfn(page);
      moved++;
    }
    migrateDevicePages(this.memory, src, dst, n);
    migrateDeviceFinalize(this.memory, src, dst, n);
    return moved;
  }
}
