/**
 * Zone-device pagemaps (struct dev_pagemap): a range of pfns owned by a device driver, the
 * owner cookie that hmm_range_fault and migrate_vma compare, and the driver's callbacks.
 */
import type { VmFault } from './vm-fault.js';

/** MEMORY_DEVICE_PRIVATE (not CPU addressable) or MEMORY_DEVICE_COHERENT. */
export type DevPagemapType = 'private' | 'coherent';

/**
 * Driver callbacks of a pagemap (struct dev_pagemap_ops), installed by @hmmkit/hmm or a
 * driver. Every member is optional; a missing migrateToRam makes a CPU fault on a
 * device-private entry of this pagemap fail with VM_FAULT_SIGBUS.
 */
export interface DevPagemapOps {
  /**
   * migrate_to_ram(): called from a CPU fault on a device-private entry, with the mmap_lock
   * held for read, no spinlock held and a reference held on the device page for the
   * duration. Returns VM_FAULT_* bits; 0 means "retry the access".
   */
  migrateToRam?(vmf: VmFault): number | Promise<number>;
  /** page_free(): the device page's refcount dropped to zero; it is idle again. Never sleeps. */
  pageFree?(pfn: number): void;
}

/** A registered range of device pfns. Mirrors struct dev_pagemap. */
export class DevPagemap {
  constructor(
    readonly firstPfn: number,
    readonly nrPages: number,
    readonly owner: unknown,
    readonly type: DevPagemapType,
    public ops: DevPagemapOps,
  ) {}

  /** Whether `pfn` belongs to this pagemap. */
  contains(pfn: number): boolean {
    return pfn >= this.firstPfn && pfn < this.firstPfn + this.nrPages;
  }
}
