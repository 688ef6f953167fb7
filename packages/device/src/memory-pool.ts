/**
 * Device memory pools: the device's own VRAM as ZONE_DEVICE pages, registered through
 * @hmmkit/hmm's DevicePagePool (memremap_pages + the driver's free list), one pool per
 * memory region (a private or a coherent range, as test_hmm's dmirror_device has both).
 *
 * Each page handed out can be charged to the client it was allocated for; the charge is the
 * client's `drm-total-vram` / `drm-resident-vram` (device memory handed out is backed, so
 * both are equal) until the page's last reference goes (page_free).
 *
 * Locking: `#charge` and the device's per-client totals change only in allocPage() and
 * page_free, neither of which sleeps (the kernel would keep them under the pool spinlock).
 */
import { DevicePagePool } from '@hmmkit/hmm';
import type { PhysicalMemory, VmFault } from '@hmmkit/mm';
import { DeviceContext } from './context.js';
import type { Device } from './device.js';
import { invalid } from './validate.js';

/** What {@link Device.createPool} takes. */
export interface DeviceMemoryPoolOptions {
  /** MEMORY_DEVICE_PRIVATE (CPU faults migrate back) or MEMORY_DEVICE_COHERENT. */
  type: 'private' | 'coherent';
  /** Pages in the pool, in [1, 2^26]. */
  nrPages: number;
  /** pgmap->owner for hmm_range_fault / migrate_vma; default the Device itself. */
  owner?: unknown;
  /** migrate_to_ram; default the pool's own (dmirror_devmem_fault). */
  migrateToRam?: (vmf: VmFault) => number | Promise<number>;
}

/** Adds `pages` to the vram charge of `ctx` (internal to the package). */
export type VramCharge = (ctx: DeviceContext, pages: number) => void;

/**
 * A region of device memory owned by one device. Mirrors a driver's device-memory chunk
 * list (test_hmm's dmirror_chunk list, nouveau_dmem, amdgpu's KFD SVM VRAM) on top of
 * memremap_pages(). Created by {@link Device.createPool}.
 *
 * **Locking**: allocPage() never sleeps; removal (Device.removePool) sleeps.
 */
export class DeviceMemoryPool {
  /** The hmm pool: pagemap, free list, migrateToRam, evict. */
  readonly pool: DevicePagePool;
  /** Client charged for each page (by offset), undefined for an uncharged page. */
  readonly #charge: (DeviceContext | undefined)[];

  /** @internal Built by Device.createPool(). */
  constructor(
    readonly device: Device,
    memory: PhysicalMemory,
    opts: DeviceMemoryPoolOptions,
    private readonly account: VramCharge,
  ) {
    this.pool = new DevicePagePool(memory, {
      type: opts.type,
      nrPages: opts.nrPages,
      owner: opts.owner === undefined ? device : opts.owner,
      onPageFree: (pfn) => this.#uncharge(pfn),
      ...(opts.migrateToRam === undefined ? {} : { migrateToRam: opts.migrateToRam }),
    });
    this.#charge = new Array(this.pool.nrPages).fill(undefined);
  }

  /** MEMORY_DEVICE_PRIVATE or MEMORY_DEVICE_COHERENT. */
  get type(): 'private' | 'coherent' {
    return this.pool.type;
  }
  /** The pgmap owner: the device unless createPool was given one. */
  get owner(): unknown {
    return this.pool.owner;
  }
  /** First pfn of the pool. */
  get firstPfn(): number {
    return this.pool.pagemap.firstPfn;
  }
  /** Pages in the pool. */
  get nrPages(): number {
    return this.pool.nrPages;
  }
  /** Pages handed out and not yet freed. */
  get nrUsed(): number {
    return this.pool.nrUsed;
  }
  /** Whether `pfn` is one of this pool's pages. */
  contains(pfn: number): boolean {
    return this.pool.contains(pfn);
  }

  /**
   * Hands out a free page, locked with refcount 1 (a migrate destination), charged to `ctx`
   * when given; -1 when the pool is empty. Mirrors dmirror_devmem_alloc_page().
   *
   * **Context**: never sleeps.
   * @throws KernelError EINVAL when `ctx` is not an open client of this device; ENODEV once
   * the pool is being removed.
   */
  allocPage(ctx?: DeviceContext): number {
    if (
      ctx !== undefined &&
      (!(ctx instanceof DeviceContext) || ctx.device !== this.device || ctx.closed)
    )
      throw invalid('DeviceMemoryPool.allocPage', 'ctx', 'an open client of this device', ctx);
    const pfn = this.pool.allocPage();
    if (pfn < 0 || ctx === undefined) return pfn;
    this.#charge[pfn - this.firstPfn] = ctx;
    this.account(ctx, 1);
    return pfn;
  }

  /** page_free: the charge ends with the page. */
  #uncharge(pfn: number): void {
    const off = pfn - this.firstPfn;
    const ctx = this.#charge[off];
    if (ctx === undefined) return;
    this.#charge[off] = undefined;
    this.account(ctx, -1);
  }
}

/** The pool of `device` among `pools`, or EINVAL naming `fn`. */
export function ownPool(
  fn: string,
  pools: readonly DeviceMemoryPool[],
  pool: unknown,
): DeviceMemoryPool {
  if (!(pool instanceof DeviceMemoryPool) || !pools.includes(pool))
    throw invalid(fn, 'pool', 'a pool of this device', pool);
  return pool;
}

/** EINVAL for a bad createPool() option, before anything is registered. */
export function checkPoolOptions(opts: unknown): DeviceMemoryPoolOptions {
  const fn = 'Device.createPool';
  if (typeof opts !== 'object' || opts === null) throw invalid(fn, 'opts', 'an object', opts);
  const o = opts as DeviceMemoryPoolOptions;
  if (o.type !== 'private' && o.type !== 'coherent')
    throw invalid(fn, 'opts.type', "'private' or 'coherent'", o.type);
  if (
    typeof o.nrPages !== 'number' ||
    !Number.isSafeInteger(o.nrPages) ||
    o.nrPages < 1 ||
    o.nrPages > 2 ** 26
  )
    throw invalid(fn, 'opts.nrPages', 'an integer in [1, 67108864]', o.nrPages);
  if (o.owner === null) throw invalid(fn, 'opts.owner', 'an owner cookie or undefined', o.owner);
  if (o.migrateToRam !== undefined && typeof o.migrateToRam !== 'function')
    throw invalid(fn, 'opts.migrateToRam', 'a function or undefined', o.migrateToRam);
  return o;
}
