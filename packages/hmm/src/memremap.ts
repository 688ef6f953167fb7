/**
 * memremap_pages() / memunmap_pages() / zone_device_page_init() (mm/memremap.c): a driver
 * turns a range of its memory into ZONE_DEVICE pages owned by a pagemap, hands pages out one
 * at a time and, at removal, waits until every page it handed out has come back.
 *
 * The pagemap reference (pgmap->ref, a percpu_ref in the kernel) is modelled by `inUse`:
 * zone_device_page_init() takes one reference per page handed out, the page's last
 * folio_put() (page_free) drops it. memunmap_pages() kills the reference, so no page can be
 * handed out any more, then sleeps until `inUse` reaches 0 (wait_for_completion(&pgmap->done)).
 *
 *   state    pageInit()        page_free             memunmapPages()
 *   live     ok, inUse++       inUse--               -> dying, sleeps while inUse > 0
 *   dying    ENODEV            inUse--, wake at 0    (second call: EBUSY)
 *   dead     ENODEV            never (no page out)   EINVAL
 */
import type { DevPagemap, DevPagemapOps, PhysicalMemory } from '@hmmkit/mm';
import { KernelError, mightSleep, trace, WaitQueue } from '@hmmkit/runtime';

/** What {@link memremapPages} registers. Mirrors the fields a driver fills in struct dev_pagemap. */
export interface MemremapPagesOptions {
  /** MEMORY_DEVICE_PRIVATE (not CPU addressable) or MEMORY_DEVICE_COHERENT. */
  type: 'private' | 'coherent';
  /** Number of pages in the range, in [1, 2^26]. */
  nrPages: number;
  /** pgmap->owner: the cookie hmm_range_fault and migrate_vma compare; not null/undefined. */
  owner: unknown;
  /** dev_pagemap_ops: pageFree always, migrateToRam for a private pagemap. */
  ops: DevPagemapOps;
}

/** State of a {@link DevicePagemap}; see the table in memremap.ts. */
export type DevicePagemapState = 'live' | 'dying' | 'dead';

/**
 * A registered device pagemap and its reference count. Mirrors struct dev_pagemap with its
 * percpu_ref. Created by {@link memremapPages}.
 *
 * **Locking**: `inUse`, `state` and the per-page `live` marks change only from
 * pageInit() and page_free, which never sleep (the kernel uses atomic percpu_ref ops).
 */
export class DevicePagemap {
  /** Pages handed out by pageInit() and not yet freed (the pagemap's live references). */
  #inUse = 0;
  #state: DevicePagemapState = 'live';
  /** 1 for each page (by offset) handed out by pageInit() and not yet back. */
  readonly #live: Uint8Array;
  /** Woken when `inUse` drops to 0 while dying (pgmap->done). */
  readonly #done = new WaitQueue('pgmap_done');

  /** @internal Built by memremapPages(). */
  constructor(
    readonly memory: PhysicalMemory,
    /** The pagemap registered with @hmmkit/mm (pfn range, owner, type, ops). */
    readonly pgmap: DevPagemap,
    private readonly driverFree: (pfn: number) => void,
  ) {
    this.#live = new Uint8Array(pgmap.nrPages);
  }

  /** First pfn of the range (pgmap->range.start >> PAGE_SHIFT). */
  get firstPfn(): number {
    return this.pgmap.firstPfn;
  }
  /** Number of pages in the range. */
  get nrPages(): number {
    return this.pgmap.nrPages;
  }
  /** pgmap->type: MEMORY_DEVICE_PRIVATE or MEMORY_DEVICE_COHERENT. */
  get type(): 'private' | 'coherent' {
    return this.pgmap.type;
  }
  /** pgmap->owner, compared by hmm_range_fault and migrate_vma. */
  get owner(): unknown {
    return this.pgmap.owner;
  }
  /** Pages handed out and not yet freed. */
  get inUse(): number {
    return this.#inUse;
  }
  /** live, dying (memunmapPages waiting) or dead (unmapped). */
  get state(): DevicePagemapState {
    return this.#state;
  }

  /**
   * Hands out the idle page `pfn`: refcount 1 and locked, one pagemap reference taken.
   * Mirrors zone_device_page_init(): the page comes back locked because its first user is a
   * migrate_vma / migrate_device destination, which must be locked; unlock it otherwise.
   *
   * **Context**: never sleeps; callable under a spinlock.
   * @throws KernelError EINVAL when `pfn` is not in this pagemap; EBUSY when the page is in
   * use; ENODEV once memunmapPages() has started (the kernel WARNs: a driver bug).
   */
  pageInit(pfn: number): void {
    if (!Number.isInteger(pfn) || !this.pgmap.contains(pfn))
      throw new KernelError(
        'EINVAL',
        `pfn ${pfn} is not in pagemap [${this.firstPfn}, +${this.nrPages})`,
      );
    if (this.#state !== 'live')
      throw new KernelError('ENODEV', `pageInit(${pfn}): pagemap is ${this.#state}`);
    this.memory.zoneDevicePageInit(pfn);
    this.#live[pfn - this.firstPfn] = 1;
    this.#inUse++;
  }

  /** page_free from @hmmkit/mm: drop the page's pagemap reference, then tell the driver. */
  pageFree(pfn: number): void {
    const off = pfn - this.firstPfn;
    if (this.#live[off] === 1) {
      this.#live[off] = 0;
      if (--this.#inUse === 0 && this.#state === 'dying') this.#done.wakeUpAll();
    }
    this.driverFree(pfn);
  }

  /** @internal memunmapPages() body: kill, wait for the references, forget the ops. */
  async unmap(): Promise<void> {
    if (this.#state === 'dead')
      throw new KernelError('EINVAL', 'memunmapPages: pagemap already unmapped');
    if (this.#state === 'dying')
      throw new KernelError('EBUSY', 'memunmapPages: already in progress');
    this.#state = 'dying';
    trace('hmm', 'memunmap-wait', { firstPfn: this.firstPfn, inUse: this.#inUse });
    await this.#done.waitEvent(() => this.#inUse === 0);
    this.#state = 'dead';
    this.pgmap.ops = {};
  }
}

function checkOptions(memory: PhysicalMemory, opts: MemremapPagesOptions): void {
  if (typeof memory !== 'object' || memory === null || !('registerDevicePages' in memory))
    throw new KernelError('EINVAL', `memory must be a PhysicalMemory, got ${String(memory)}`);
  if (typeof opts !== 'object' || opts === null)
    throw new KernelError('EINVAL', `opts must be an object, got ${String(opts)}`);
  if (opts.type !== 'private' && opts.type !== 'coherent')
    throw new KernelError(
      'EINVAL',
      `opts.type must be 'private' or 'coherent', got ${String(opts.type)}`,
    );
  const ops = opts.ops;
  if (typeof ops !== 'object' || ops === null)
    throw new KernelError('EINVAL', `opts.ops must be an object, got ${String(ops)}`);
  // memremap_pages(): "Missing page_free method", "Missing migrate_to_ram method", "Missing owner".
  if (typeof ops.pageFree !== 'function')
    throw new KernelError(
      'EINVAL',
      `opts.ops.pageFree must be a function, got ${typeof ops.pageFree}`,
    );
  if (opts.type === 'private' && typeof ops.migrateToRam !== 'function')
    throw new KernelError('EINVAL', 'opts.ops.migrateToRam is required for a private pagemap');
  if (opts.owner === undefined || opts.owner === null)
    throw new KernelError('EINVAL', `opts.owner must be set, got ${String(opts.owner)}`);
}

/**
 * Registers `nrPages` ZONE_DEVICE pages owned by `owner`; they start idle and are handed
 * out with {@link DevicePagemap.pageInit}. Mirrors memremap_pages() (devm_memremap_pages()
 * without the devres release): same checks, same -EINVAL for a missing page_free,
 * migrate_to_ram (private) or owner.
 *
 * **Context**: process context; never sleeps in the model (the kernel's GFP_KERNEL
 * allocations and memory hotplug lock are not modelled).
 * @throws KernelError EINVAL for a bad memory, type, nrPages, ops or owner.
 *
 * @example
 * const pagemap = memremapPages(memory, {
 *   type: 'private', nrPages: 16, owner: device,
 *   ops: { migrateToRam: (vmf) => driver.fault(vmf), pageFree: (pfn) => driver.free(pfn) },
 * });
 * pagemap.pageInit(pagemap.firstPfn); // refcount 1, locked
 */
export function memremapPages(memory: PhysicalMemory, opts: MemremapPagesOptions): DevicePagemap {
  checkOptions(memory, opts);
  const driverFree = opts.ops.pageFree!;
  const ops: DevPagemapOps = { pageFree: (pfn) => handle.pageFree(pfn) };
  if (opts.ops.migrateToRam) ops.migrateToRam = opts.ops.migrateToRam;
  const pgmap = memory.registerDevicePages({
    nrPages: opts.nrPages,
    owner: opts.owner,
    type: opts.type,
    ops,
  });
  const handle = new DevicePagemap(memory, pgmap, driverFree);
  return handle;
}

/**
 * Tears a pagemap down: no page can be handed out any more, then sleeps until every page
 * handed out has been freed, then forgets the driver's ops. Mirrors memunmap_pages()
 * (percpu_ref_kill + wait_for_completion(&pgmap->done)).
 *
 * **When to use**: after evicting the pages (migrateDeviceRange, as test_hmm's
 * dmirror_device_evict_chunk() does, or {@link DevicePagePool.remove}); a page still mapped
 * or held keeps this sleeping, as in the kernel.
 * **Locking**: no spinlock, no lock that the page's release path takes; sleeps.
 * **Gotchas**: the pfn range stays registered in @hmmkit/mm (it has no unregister) and is
 * never reused; a device-private entry can no longer exist for it.
 * @throws KernelError EINVAL for a bad or already unmapped pagemap; EBUSY while another
 * memunmapPages() of it is in progress.
 */
export async function memunmapPages(pagemap: DevicePagemap): Promise<void> {
  if (!(pagemap instanceof DevicePagemap))
    throw new KernelError('EINVAL', `pagemap must be a DevicePagemap, got ${String(pagemap)}`);
  mightSleep('memunmap_pages');
  await pagemap.unmap();
}
