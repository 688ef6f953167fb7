/**
 * struct dmirror_device: one /dev/hmm_dmirrorN and its ZONE_DEVICE memory (private or
 * coherent). The memory is a @hmmkit/hmm DevicePagePool (memremap_pages() with the free
 * list test_hmm threads through zone_device_data); this file adds what is dmirror's own:
 * which open file migrated each page (rpage->zone_device_data), the migrate_to_ram that
 * also drops that file's device entry, and the ioctl-facing RELEASE.
 *
 * Locking (the kernel's `mdevice->lock`): the pool guards its free list with its spinlock;
 * `#mirrorOf` changes only in synchronous code (allocPage(), page_free), never across an
 * await, so no task sees it half updated.
 *
 * Device memory: the kernel registers 256 MiB chunks, the first at module load and more on
 * demand. The model registers one pool of `pages` pages at create() and never grows it;
 * RELEASE evicts every page, which returns them all to the free list, as a fresh chunk
 * would be.
 */
import { Device } from '@hmmkit/device';
import {
  type DevicePagemap,
  DevicePagePool,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
} from '@hmmkit/hmm';
import { Mm, PhysicalMemory } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import { DEVMEM_CHUNK_PAGES, DMIRROR_NDEVICES } from './constants.js';
import { Dmirror } from './dmirror.js';
import { devmemFault } from './migrate-to-ram.js';

/** MEMORY_DEVICE_PRIVATE (HMM_DMIRROR_MEMORY_DEVICE_PRIVATE) or _COHERENT. */
export type DmirrorKind = 'private' | 'coherent';

/** Options of {@link DmirrorDevice.create}. */
export interface DmirrorDeviceOptions {
  /** Zone-device type of the device's memory. */
  kind: DmirrorKind;
  /** 4 KiB pages of device memory, apart from the memory's own pages (default 65536: one 256 MiB chunk). */
  pages?: number;
}

let nextMinor = 0;

/**
 * One dmirror device (a /dev/hmm_dmirrorN) with its own device memory.
 * Mirrors struct dmirror_device and dmirror_device_init() of lib/test_hmm.c.
 *
 * @example
 * const memory = new PhysicalMemory({ pages: 1024 });
 * const dev = DmirrorDevice.create(memory, { kind: 'private', pages: 256 });
 * const dmirror = await dev.open(Mm.create(memory));
 */
export class DmirrorDevice {
  /** Device number (the N of hmm_dmirrorN), from one counter per process. */
  readonly minor: number;
  /** The simulated hardware: one client (DeviceContext) per open file, DMA through it. */
  readonly hw: Device;
  /** The device memory (memremap_pages() + free list); its owner is this device. */
  readonly pool: DevicePagePool;
  /** Per device page: the open file that migrated it (rpage->zone_device_data). */
  readonly #mirrorOf: (Dmirror | undefined)[];

  private constructor(
    readonly memory: PhysicalMemory,
    readonly kind: DmirrorKind,
    pages: number,
  ) {
    this.minor = nextMinor++;
    this.hw = new Device(memory, { name: `hmm_dmirror${this.minor}` });
    this.pool = new DevicePagePool(memory, {
      type: kind,
      nrPages: pages,
      owner: this,
      migrateToRam: (vmf) => devmemFault(this, vmf),
      onPageFree: (pfn) => {
        this.#mirrorOf[pfn - this.pool.pagemap.firstPfn] = undefined;
      },
    });
    this.#mirrorOf = new Array(pages);
  }

  /**
   * Creates a device with `opts.pages` pages of `opts.kind` device memory.
   * Mirrors dmirror_device_init() with its first dmirror_allocate_chunk().
   * **Context**: never sleeps.
   * @throws KernelError EINVAL naming a bad `memory`, `opts.kind` or `opts.pages`.
   */
  static create(memory: PhysicalMemory, opts: DmirrorDeviceOptions): DmirrorDevice {
    if (!(memory instanceof PhysicalMemory))
      throw new KernelError('EINVAL', `memory must be a PhysicalMemory, got ${String(memory)}`);
    if (typeof opts !== 'object' || opts === null)
      throw new KernelError('EINVAL', `opts must be an object, got ${String(opts)}`);
    if (opts.kind !== 'private' && opts.kind !== 'coherent')
      throw new KernelError(
        'EINVAL',
        `opts.kind must be 'private' or 'coherent', got ${String(opts.kind)}`,
      );
    const pages = opts.pages ?? DEVMEM_CHUNK_PAGES;
    if (!Number.isSafeInteger(pages) || pages < 1 || pages > 2 ** 26)
      throw new KernelError('EINVAL', `opts.pages must be an integer in [1, 2^26], got ${pages}`);
    return new DmirrorDevice(memory, opts.kind, pages);
  }

  /**
   * Creates the module's four devices: 0 and 1 device-private, 2 and 3 device-coherent.
   * Mirrors hmm_dmirror_init() loaded with spm_addr_dev0 and spm_addr_dev1 set.
   * @throws KernelError EINVAL as create().
   */
  static createAll(memory: PhysicalMemory, pages?: number): DmirrorDevice[] {
    const devices: DmirrorDevice[] = [];
    for (let id = 0; id < DMIRROR_NDEVICES; id++) {
      const kind: DmirrorKind = id < 2 ? 'private' : 'coherent';
      devices.push(DmirrorDevice.create(memory, pages === undefined ? { kind } : { kind, pages }));
    }
    return devices;
  }

  /**
   * Opens the device file from the process owning `mm`: a new device page table and an
   * interval notifier over the whole address space. Mirrors dmirror_fops_open().
   * **Context**: may sleep (takes the mmap_lock to insert the notifier).
   * @throws KernelError EINVAL for an `mm` of another memory or one that has exited.
   */
  async open(mm: Mm): Promise<Dmirror> {
    if (!(mm instanceof Mm) || mm.memory !== this.memory)
      throw new KernelError(
        'EINVAL',
        `mm must be an Mm of this device's memory, got ${String(mm)}`,
      );
    return Dmirror.open(this, mm);
  }

  /** The pool's pagemap (first pfn, size, owner). */
  get pagemap(): DevicePagemap {
    return this.pool.pagemap;
  }

  /** MIGRATE_VMA_SELECT_* for pages of this device (dmirror_select_device()). */
  get selectFlags(): number {
    return this.kind === 'private'
      ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE
      : MIGRATE_VMA_SELECT_DEVICE_COHERENT;
  }

  /** Device pages on the free list. */
  get freePages(): number {
    return this.pool.nrFree;
  }

  /**
   * Takes a free device page for `dmirror`: referenced and locked, or -1 when none is left.
   * Mirrors dmirror_devmem_alloc_page() (which would add a chunk where the model cannot).
   * **Context**: never sleeps.
   */
  allocPage(dmirror: Dmirror): number {
    const pfn = this.pool.allocPage();
    if (pfn >= 0) this.#mirrorOf[pfn - this.pool.pagemap.firstPfn] = dmirror;
    return pfn;
  }

  /** The open file that migrated device page `pfn` here (rpage->zone_device_data). */
  mirrorOf(pfn: number): Dmirror | undefined {
    return this.#mirrorOf[pfn - this.pool.pagemap.firstPfn];
  }

  /**
   * Evicts every device page back to system memory; they return to the free list.
   * Mirrors dmirror_device_remove_chunks() (HMM_DMIRROR_RELEASE).
   * **Context**: may sleep (migrate_device_range() takes page locks and notifiers).
   * @throws KernelError ENOMEM when system memory ran out (the kernel's __GFP_NOFAIL); the
   * pages that could not move stay in device memory.
   */
  async removeChunks(): Promise<void> {
    await this.pool.evict();
  }
}
