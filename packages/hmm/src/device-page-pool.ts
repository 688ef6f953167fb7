/**
 * A device memory pool as drivers write it on top of memremap_pages(): test_hmm's
 * dmirror_allocate_chunk() / dmirror_devmem_alloc_page() / dmirror_devmem_free(),
 * dmirror_devmem_fault() and dmirror_device_evict_chunk(), nouveau_dmem's chunk free list.
 *
 * Free list: a stack of pfn offsets in an Int32Array (the kernel threads it through
 * page->zone_device_data), pushed by page_free, popped by allocPage().
 *
 * Locking: `#free` and `#nrFree` are protected by `#lock` (a spinlock: page_free runs from
 * any folio_put(), possibly under the page-table lock, and must not sleep). Lock order:
 * page-table lock -> pool lock; nothing is called with the pool lock held.
 */
import {
  PAGE_SIZE,
  type PhysicalMemory,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  type VmFault,
} from '@hmmkit/mm';
import { KernelError, mightSleep, SpinLock, schedulePoint } from '@hmmkit/runtime';
import { type DevicePagemap, memremapPages, memunmapPages } from './memremap.js';
import { migrateDeviceFinalize, migrateDevicePages, migrateDeviceRange } from './migrate-device.js';
import { MIGRATE_PFN_MIGRATE, migratePfn, migratePfnToPage } from './migrate-pfn.js';
import {
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  type MigrateVma,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from './migrate-vma.js';

/** What {@link DevicePagePool} registers. */
export interface DevicePagePoolOptions {
  /** MEMORY_DEVICE_PRIVATE or MEMORY_DEVICE_COHERENT. */
  type: 'private' | 'coherent';
  /** Pages in the pool, in [1, 2^26]. */
  nrPages: number;
  /** pgmap->owner (the driver's cookie, test_hmm's mdevice); not null/undefined. */
  owner: unknown;
  /**
   * migrate_to_ram; default {@link DevicePagePool.migrateToRam} (one page back to RAM, as
   * dmirror_devmem_fault()). Same contract as DevPagemapOps.migrateToRam.
   */
  migrateToRam?: (vmf: VmFault) => number | Promise<number>;
  /** Called after a freed page is back on the free list (driver bookkeeping). Never sleeps. */
  onPageFree?: (pfn: number) => void;
}

/**
 * A pool of ZONE_DEVICE pages with a free-list allocator, CPU-fault migration back to RAM
 * and eviction. Mirrors test_hmm's dmirror chunk allocator (one chunk, no growth) over
 * memremap_pages().
 *
 * **Locking**: allocPage() and page_free take the pool spinlock only around the free list;
 * migrateToRam() runs with the mmap_lock held for read (the fault path's contract);
 * evict() and remove() take no lock and sleep.
 *
 * @example
 * const pool = new DevicePagePool(memory, { type: 'private', nrPages: 64, owner: device });
 * const dpage = pool.allocPage(); // locked, refcount 1: a migrate_vma destination
 * // ... migrate_vma_setup, copy into dpage, migrate_vma_pages, migrate_vma_finalize
 * await pool.remove(); // evict every page still in use, then memunmap_pages
 */
export class DevicePagePool {
  readonly pagemap: DevicePagemap;
  readonly #lock = new SpinLock('device_pool_lock');
  /** Free page offsets, top at #nrFree - 1 (protected by #lock). */
  readonly #free: Int32Array;
  #nrFree: number;
  readonly #onPageFree: ((pfn: number) => void) | undefined;

  /**
   * Registers the pool's pages (memremap_pages) and puts them all on the free list.
   * **Context**: never sleeps.
   * @throws KernelError EINVAL for a bad memory, type, nrPages, owner or callback.
   */
  constructor(
    readonly memory: PhysicalMemory,
    opts: DevicePagePoolOptions,
  ) {
    if (typeof opts !== 'object' || opts === null)
      throw new KernelError('EINVAL', `opts must be an object, got ${String(opts)}`);
    for (const k of ['migrateToRam', 'onPageFree'] as const)
      if (opts[k] !== undefined && typeof opts[k] !== 'function')
        throw new KernelError('EINVAL', `opts.${k} must be a function, got ${typeof opts[k]}`);
    this.#onPageFree = opts.onPageFree;
    const migrateToRam =
      opts.migrateToRam ??
      (opts.type === 'private' ? (vmf: VmFault) => this.migrateToRam(vmf) : undefined);
    this.pagemap = memremapPages(memory, {
      type: opts.type,
      nrPages: opts.nrPages,
      owner: opts.owner,
      ops: { pageFree: (pfn) => this.#put(pfn), ...(migrateToRam ? { migrateToRam } : {}) },
    });
    const n = this.pagemap.nrPages;
    this.#free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.#free[i] = n - 1 - i;
    this.#nrFree = n;
  }

  /** The pagemap owner (pgmap->owner). */
  get owner(): unknown {
    return this.pagemap.owner;
  }
  /** MEMORY_DEVICE_PRIVATE or MEMORY_DEVICE_COHERENT. */
  get type(): 'private' | 'coherent' {
    return this.pagemap.type;
  }
  /** Pages in the pool. */
  get nrPages(): number {
    return this.pagemap.nrPages;
  }
  /** Pages on the free list. */
  get nrFree(): number {
    return this.#nrFree;
  }
  /** Pages handed out and not yet freed (test_hmm's calloc - cfree). */
  get nrUsed(): number {
    return this.pagemap.inUse;
  }
  /** Whether `pfn` is one of the pool's pages. */
  contains(pfn: number): boolean {
    return this.pagemap.pgmap.contains(pfn);
  }

  /**
   * Takes a page off the free list and hands it out locked with refcount 1, or returns -1
   * when the pool is empty. Mirrors dmirror_devmem_alloc_page() (without chunk growth) +
   * zone_device_page_init().
   *
   * **Context**: never sleeps; callable under a spinlock other than the pool's.
   * @throws KernelError ENODEV once remove()/memunmapPages() has started.
   */
  allocPage(): number {
    if (this.pagemap.state !== 'live')
      throw new KernelError('ENODEV', `allocPage: pool pagemap is ${this.pagemap.state}`);
    this.#lock.lock();
    const off = this.#nrFree > 0 ? this.#free[--this.#nrFree]! : -1;
    this.#lock.unlock();
    if (off < 0) return -1;
    const pfn = this.pagemap.firstPfn + off;
    this.pagemap.pageInit(pfn);
    return pfn;
  }

  /** page_free: back on the free list (dmirror_devmem_free). Never sleeps. */
  #put(pfn: number): void {
    this.#lock.lock();
    this.#free[this.#nrFree++] = pfn - this.pagemap.firstPfn;
    this.#lock.unlock();
    this.#onPageFree?.(pfn);
  }

  /**
   * Migrates the faulting device page back to a new RAM page. Mirrors dmirror_devmem_fault():
   * migrate_vma_setup with SELECT_DEVICE_PRIVATE (or COHERENT) and fault_page, alloc + lock
   * + copy, migrate_vma_pages, migrate_vma_finalize. Returns 0 (retry the access),
   * VM_FAULT_OOM when no RAM page is free, or VM_FAULT_SIGBUS when migrate_vma_setup fails.
   *
   * **Locking**: called by the fault path (do_swap_page()) with the mmap_lock held for read
   * and the device page locked and referenced; the fault path unlocks it after this returns,
   * so the migration passes it as `faultPage` and never locks or unlocks it; sleeps.
   */
  async migrateToRam(vmf: VmFault): Promise<number> {
    const args: MigrateVma = {
      mm: vmf.mm,
      vma: vmf.vma,
      start: vmf.address,
      end: vmf.address + PAGE_SIZE,
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
    try {
      await migrateVmaSetup(args);
    } catch (err) {
      if (err instanceof KernelError) return VM_FAULT_SIGBUS;
      throw err;
    }
    await schedulePoint(); // the copy is a DMA the driver waits for
    let oom = false;
    if (args.src[0]! & MIGRATE_PFN_MIGRATE) oom = !this.#copyToRam(args.src, args.dst, 0);
    await migrateVmaPages(args);
    migrateVmaFinalize(args);
    return oom ? VM_FAULT_OOM : 0;
  }

  /** Allocates, locks and fills a RAM page for src[i] into dst[i]; false when RAM is out. */
  #copyToRam(src: Float64Array, dst: Float64Array, i: number): boolean {
    const page = this.memory.allocPage();
    if (page < 0) return false;
    this.memory.trylockPage(page);
    this.memory.copyPage(page, migratePfnToPage(src[i]!));
    dst[i] = migratePfn(page);
    return true;
  }

  /**
   * Migrates every page of the pool still in use to RAM and returns how many moved. Mirrors
   * dmirror_device_evict_chunk(): migrate_device_range over the whole pool, one RAM page per
   * selected page, migrate_device_pages, migrate_device_finalize. A page another task holds
   * locked (a CPU fault migrating it) is skipped: it comes back through that task.
   *
   * **Locking**: no mmap_lock, no spinlock; sleeps.
   * @throws KernelError ENOMEM when RAM ran out (the kernel uses __GFP_NOFAIL); the pages
   * that could not move stay on the device, mapped as before.
   */
  async evict(): Promise<number> {
    mightSleep('dmirror_device_evict_chunk');
    const n = this.nrPages;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    await migrateDeviceRange(this.memory, src, this.pagemap.firstPfn, n);
    await schedulePoint(); // the copies are DMAs the driver waits for
    let moved = 0;
    let failed = 0;
    for (let i = 0; i < n; i++) {
      if (!(src[i]! & MIGRATE_PFN_MIGRATE)) continue;
      if (this.#copyToRam(src, dst, i)) moved++;
      else failed++;
    }
    migrateDevicePages(this.memory, src, dst, n);
    migrateDeviceFinalize(this.memory, src, dst, n);
    if (failed > 0) throw new KernelError('ENOMEM', `evict: no RAM for ${failed} device pages`);
    return moved;
  }

  /**
   * Evicts the pool's pages, then unregisters it, sleeping until every page handed out has
   * been freed. Mirrors dmirror_device_remove_chunks(): evict, then memunmap_pages().
   *
   * **Locking**: no lock held; sleeps. A page the driver still holds (allocated, never
   * migrated) keeps this sleeping until the driver puts it, as memunmap_pages() does.
   * @throws KernelError ENOMEM from evict(); EBUSY when a removal is already in progress;
   * EINVAL when the pool was removed.
   */
  async remove(): Promise<void> {
    if (this.pagemap.state !== 'live')
      throw new KernelError(
        this.pagemap.state === 'dying' ? 'EBUSY' : 'EINVAL',
        `remove: pool pagemap is ${this.pagemap.state}`,
      );
    await this.evict();
    await memunmapPages(this.pagemap);
  }
}
