/**
 * Physical memory: page frames and their metadata in typed arrays indexed by pfn, the shared
 * zero page, the free list, the hugetlb pool, zone-device pagemaps, swap, tmpfs files and
 * the list of live address spaces (for rmap walks).
 *
 * Layout of pfns: 0 is the shared zero page (PG_RESERVED, never counted); 1..pages are the
 * buddy-allocated frames; then, aligned to 512, `hugetlbPages * 512` frames of the hugetlb pool; then each
 * registered device pagemap in order.
 *
 * Invariants (checked by checkInvariants()): a free frame (PG_BUDDY) has refcount 0, mapcount
 * 0 and no contents; a frame in use has refcount >= mapcount + pincount; `freePages` equals
 * the number of PG_BUDDY frames among 1..pages.
 *
 * Locking: refcounts are atomics in the kernel and plain numbers here (tasks are
 * cooperative); PG_LOCKED is the folio lock, slept on through `pageWait`.
 */
import { KernelError, WaitQueue } from '@hmmkit/runtime';
import { PAGE_SIZE } from './constants.js';
import { DevPagemap, type DevPagemapOps, type DevPagemapType } from './dev-pagemap.js';
import { MemFile } from './mem-file.js';
import type { Mm } from './mm.js';
import {
  PG_BUDDY,
  PG_HEAD,
  PG_HUGETLB,
  PG_LOCKED,
  PG_RESERVED,
  PG_ZONE_DEVICE,
} from './page-flags.js';
import { SwapSpace } from './swap.js';
import type { VmFault } from './vm-fault.js';

/** pfn of the shared zero page (my_zero_pfn()). */
export const ZERO_PFN = 0;
/** Pages in a hugetlb page or PMD THP (1 << HPAGE_PMD_ORDER). */
export const HPAGE_NR = 512;

/** Hook for device-exclusive entries, installed by @hmmkit/device-exclusive. */
export interface DeviceExclusiveOps {
  /**
   * remove_device_exclusive_entry(): called from a CPU fault on a device-exclusive entry with
   * the mmap_lock held for read and no spinlock; returns VM_FAULT_* bits (0: retry fault).
   */
  restoreExclusive(vmf: VmFault): number | Promise<number>;
}

/** Options of {@link PhysicalMemory}. */
export interface PhysicalMemoryOptions {
  /** Number of 4 KiB frames in the buddy allocator. */
  pages: number;
  /** Number of 2 MiB hugetlb pages in the pool, after RAM, aligned to 512 pfns (nr_hugepages). */
  hugetlbPages?: number;
}

/**
 * The machine's RAM: page frames with refcount, mapcount, pincount, flags and lazily
 * allocated contents.
 *
 * Mirrors struct page / struct folio metadata and the buddy allocator (mm/page_alloc.c).
 *
 * @example
 * const memory = new PhysicalMemory({ pages: 1024 });
 * const mm = Mm.create(memory);
 */
export class PhysicalMemory {
  readonly totalPages: number;
  /** Reference count per pfn (folio_ref_count). Pins add 1 here and 1 to `pincount`. */
  refcount: Int32Array;
  /** Number of page-table entries mapping the pfn (folio_mapcount, 0-based). */
  mapcount: Int32Array;
  /** FOLL_PIN pins per pfn (folio_maybe_dma_pinned when > 0). */
  pincount: Int32Array;
  /** PG_* flags per pfn (see page-flags.ts). */
  flags: Uint32Array;
  /** anon_vma id (anon), file id (page cache) or head pfn (tail page) per pfn; 0 = none. */
  mapping: Int32Array;
  /** Page offset: linear_page_index() for anon pages, file offset for page cache. */
  index: Float64Array;
  /** Contents per pfn; undefined reads as zeros (allocated on first non-zero write). */
  contents: (Uint8Array | undefined)[];
  /** Swap device for anon reclaim. */
  readonly swap = new SwapSpace();
  /** Waiters on PG_LOCKED (folio_wait_bit / migration_entry_wait). */
  readonly pageWait = new WaitQueue('page_lock');
  /** Live address spaces, for rmap walks and the invariant checker. */
  readonly mms = new Set<Mm>();
  /** Registered device pagemaps (memremap_pages). */
  readonly pagemaps: DevPagemap[] = [];
  /** Installed by @hmmkit/device-exclusive; undefined: such a fault is a SIGBUS. */
  deviceExclusiveOps: DeviceExclusiveOps | undefined;
  /**
   * Stack of free frames with lazy deletion: allocHugeFrames() takes frames without
   * removing their entries, so allocPage() skips entries whose frame is not PG_BUDDY any
   * more; the stack is rebuilt from the flags when it fills up.
   */
  /** Number of 2 MiB pages in the hugetlb pool (nr_hugepages). */
  readonly totalHugePages: number;
  private readonly hugetlbFirst: number;
  /** Free hugetlb pages, by first pfn (hstate free lists). */
  private readonly hugetlbPool: number[];
  /** Frames still referenced per hugetlb page; the page returns to the pool at 0. */
  private readonly hugetlbLive: Int32Array;
  private freeList: Int32Array;
  private top: number;
  private nrFree: number;
  private hugeCursor = HPAGE_NR;
  private capacity: number;
  private nextId = 1;

  constructor(opts: PhysicalMemoryOptions) {
    const pages = opts?.pages;
    if (!Number.isSafeInteger(pages) || pages < 1 || pages > 2 ** 28)
      throw new KernelError('EINVAL', `pages must be an integer in [1, 2^28], got ${pages}`);
    const huge = opts.hugetlbPages ?? 0;
    if (!Number.isSafeInteger(huge) || huge < 0)
      throw new KernelError('EINVAL', `hugetlbPages must be a non-negative integer, got ${huge}`);
    if (huge > 2 ** 19) throw new KernelError('EINVAL', `hugetlbPages ${huge} is too large`);
    this.totalPages = pages;
    this.hugetlbFirst = Math.ceil((pages + 1) / HPAGE_NR) * HPAGE_NR;
    this.hugetlbPool = Array.from(
      { length: huge },
      (_, i) => this.hugetlbFirst + (huge - 1 - i) * HPAGE_NR,
    );
    this.hugetlbLive = new Int32Array(huge);
    this.totalHugePages = huge;
    this.capacity = huge > 0 ? this.hugetlbFirst + huge * HPAGE_NR : pages + 1;
    this.refcount = new Int32Array(this.capacity);
    this.mapcount = new Int32Array(this.capacity);
    this.pincount = new Int32Array(this.capacity);
    this.flags = new Uint32Array(this.capacity);
    this.mapping = new Int32Array(this.capacity);
    this.index = new Float64Array(this.capacity);
    this.contents = new Array(this.capacity);
    this.freeList = new Int32Array(2 * pages);
    for (let i = 0; i < pages; i++) this.freeList[i] = pages - i;
    this.top = pages;
    this.flags.fill(PG_BUDDY, 1, pages + 1);
    if (huge > 0) this.flags.fill(PG_HUGETLB, this.hugetlbFirst);
    this.flags[ZERO_PFN] = PG_RESERVED;
    this.refcount[ZERO_PFN] = 1;
    this.nrFree = pages;
  }

  /** Number of free frames in the buddy allocator (NR_FREE_PAGES). */
  get freePages(): number {
    return this.nrFree;
  }

  /** Number of pfns (RAM, pools and device pages) that have metadata. */
  get maxPfn(): number {
    return this.capacity;
  }

  /** A new id for an anon_vma or a file (shared counter, never 0). */
  newId(): number {
    return this.nextId++;
  }

  /**
   * Creates an empty tmpfs file of `size` bytes (O_TMPFILE + ftruncate).
   * @throws KernelError EINVAL when size is not a non-negative safe integer.
   */
  createFile(size = 0): MemFile {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new KernelError('EINVAL', `size must be a non-negative integer, got ${size}`);
    return new MemFile(this, this.newId(), size);
  }

  /**
   * Allocates a zero-filled frame with refcount 1, or returns -1 when memory is exhausted.
   * Mirrors folio_alloc(); the caller reports -1 as VM_FAULT_OOM / ENOMEM.
   */
  allocPage(): number {
    if (this.nrFree === 0) return -1;
    let pfn = this.freeList[--this.top]!;
    while (!(this.flags[pfn]! & PG_BUDDY)) pfn = this.freeList[--this.top]!;
    this.nrFree--;
    this.flags[pfn] = 0;
    this.refcount[pfn] = 1;
    return pfn;
  }

  /** Takes a reference (folio_get). */
  getPage(pfn: number): void {
    this.assertInUse(pfn, 'getPage');
    if (pfn !== ZERO_PFN) this.refcount[pfn]!++;
  }

  /** Takes a reference unless the count is zero (folio_try_get). */
  tryGetPage(pfn: number): boolean {
    if (this.refcount[pfn]! <= 0) return false;
    this.refcount[pfn]!++;
    return true;
  }

  /** Drops a reference and frees the frame at zero (folio_put). */
  putPage(pfn: number): void {
    this.assertInUse(pfn, 'putPage');
    if (pfn === ZERO_PFN) return;
    if (--this.refcount[pfn]! === 0) this.freeFrame(pfn);
  }

  /** Pins a page for DMA (try_grab_folio with FOLL_PIN). */
  pinPage(pfn: number): void {
    this.getPage(pfn);
    if (pfn !== ZERO_PFN) this.pincount[pfn]!++;
  }

  /** Drops a pin (unpin_user_page). */
  unpinPage(pfn: number): void {
    if (pfn !== ZERO_PFN) {
      if (this.pincount[pfn]! <= 0) throw new KernelError('EINVAL', `pfn ${pfn} is not pinned`);
      this.pincount[pfn]!--;
    }
    this.putPage(pfn);
  }

  /** Tries to take the page lock (folio_trylock). */
  trylockPage(pfn: number): boolean {
    if (this.flags[pfn]! & PG_LOCKED) return false;
    this.flags[pfn]! |= PG_LOCKED;
    return true;
  }

  /** Takes the page lock, sleeping while another task holds it (folio_lock). */
  async lockPage(pfn: number): Promise<void> {
    while (!this.trylockPage(pfn)) await this.pageWait.waitEvent(() => this.isUnlocked(pfn));
  }

  /** Releases the page lock and wakes its waiters (folio_unlock). */
  unlockPage(pfn: number): void {
    if (!(this.flags[pfn]! & PG_LOCKED))
      throw new KernelError('EINVAL', `unlockPage: pfn ${pfn} is not locked`);
    this.flags[pfn]! &= ~PG_LOCKED;
    this.pageWait.wakeUpAll();
  }

  /** Whether PG_LOCKED is clear on `pfn`. */
  isUnlocked(pfn: number): boolean {
    return (this.flags[pfn]! & PG_LOCKED) === 0;
  }

  /** Copies `len` bytes of page `pfn` from offset `off` into `dst` at `dstOff`. */
  readPage(pfn: number, off: number, dst: Uint8Array, dstOff: number, len: number): void {
    const data = this.contents[pfn];
    if (data === undefined) dst.fill(0, dstOff, dstOff + len);
    else dst.set(data.subarray(off, off + len), dstOff);
  }

  /** Copies `len` bytes of `src` from `srcOff` into page `pfn` at offset `off`. */
  writePage(pfn: number, off: number, src: Uint8Array, srcOff: number, len: number): void {
    if (pfn === ZERO_PFN) throw new KernelError('EFAULT', 'write to the shared zero page');
    let data = this.contents[pfn];
    if (data === undefined) {
      if (isZero(src, srcOff, len)) return;
      data = new Uint8Array(PAGE_SIZE);
      this.contents[pfn] = data;
    }
    data.set(src.subarray(srcOff, srcOff + len), off);
  }

  /** Copies the contents of `src` to `dst` (copy_user_highpage). */
  copyPage(dst: number, src: number): void {
    const data = this.contents[src];
    this.contents[dst] = data === undefined ? undefined : data.slice();
  }

  /**
   * Registers `nrPages` device pages owned by `owner` (memremap_pages). Pages start idle
   * (refcount 0, not on the free list); the driver hands them out with zoneDevicePageInit().
   */
  registerDevicePages(opts: {
    nrPages: number;
    owner: unknown;
    type: DevPagemapType;
    ops?: DevPagemapOps;
  }): DevPagemap {
    const n = opts?.nrPages;
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 26)
      throw new KernelError('EINVAL', `nrPages must be an integer in [1, 2^26], got ${n}`);
    if (opts.type !== 'private' && opts.type !== 'coherent')
      throw new KernelError('EINVAL', `type must be 'private' or 'coherent', got ${opts.type}`);
    const first = this.capacity;
    this.growTo(first + n);
    this.flags.fill(PG_ZONE_DEVICE, first, first + n);
    const pgmap = new DevPagemap(first, n, opts.owner, opts.type, opts.ops ?? {});
    this.pagemaps.push(pgmap);
    return pgmap;
  }

  /** Device pagemap owning `pfn`, or undefined for ordinary RAM. */
  pagemapOf(pfn: number): DevPagemap | undefined {
    if (!(this.flags[pfn]! & PG_ZONE_DEVICE)) return undefined;
    for (const p of this.pagemaps) if (pfn >= p.firstPfn && pfn < p.firstPfn + p.nrPages) return p;
    return undefined;
  }

  /** Hands out an idle device page: refcount 1, locked (zone_device_page_init). */
  zoneDevicePageInit(pfn: number): void {
    if (!this.pagemapOf(pfn)) throw new KernelError('EINVAL', `pfn ${pfn} is not a device page`);
    if (this.refcount[pfn] !== 0) throw new KernelError('EBUSY', `device pfn ${pfn} is in use`);
    this.refcount[pfn] = 1;
    this.flags[pfn] = PG_ZONE_DEVICE | PG_LOCKED;
  }

  /** Whether `pfn` is a frame this memory knows (zero page included). */
  validPfn(pfn: number): boolean {
    return Number.isInteger(pfn) && pfn >= 0 && pfn < this.capacity;
  }

  private freeFrame(pfn: number): void {
    const f = this.flags[pfn]!;
    if (this.mapcount[pfn] !== 0 || this.pincount[pfn] !== 0)
      throw new KernelError('EINVAL', `freeing pfn ${pfn} with mapcount ${this.mapcount[pfn]}`);
    this.contents[pfn] = undefined;
    this.mapping[pfn] = 0;
    this.index[pfn] = 0;
    if (f & PG_ZONE_DEVICE) {
      this.flags[pfn] = PG_ZONE_DEVICE;
      this.pagemapOf(pfn)?.ops.pageFree?.(pfn);
      return;
    }
    if (f & PG_HUGETLB) {
      this.flags[pfn] = PG_HUGETLB;
      const block = Math.floor((pfn - this.hugetlbFirst) / HPAGE_NR);
      if (--this.hugetlbLive[block]! === 0)
        this.hugetlbPool.push(this.hugetlbFirst + block * HPAGE_NR);
      return;
    }
    this.flags[pfn] = PG_BUDDY;
    if (this.top === this.freeList.length) this.rebuildFreeList();
    this.freeList[this.top++] = pfn;
    this.nrFree++;
  }

  /** Free pages in the hugetlb pool (free_hugepages). */
  get freeHugePages(): number {
    return this.hugetlbPool.length;
  }

  /**
   * Takes a 2 MiB page from the hugetlb pool: 512 aligned frames with refcount 1, zero
   * contents, PG_HUGETLB, the first also PG_HEAD. Returns its first pfn or -1 when the pool
   * is empty. Mirrors alloc_hugetlb_folio() (without reservations).
   */
  allocHugetlb(): number {
    const head = this.hugetlbPool.pop();
    if (head === undefined) return -1;
    for (let pfn = head; pfn < head + HPAGE_NR; pfn++) {
      this.flags[pfn] = PG_HUGETLB;
      this.refcount[pfn] = 1;
    }
    this.flags[head]! |= PG_HEAD;
    this.hugetlbLive[(head - this.hugetlbFirst) / HPAGE_NR] = HPAGE_NR;
    return head;
  }

  /**
   * Allocates 512 free frames, contiguous and aligned to 512 pfns, for a PMD-mapped THP;
   * each gets refcount 1 and zero contents, the first PG_HEAD. Returns the first pfn or -1
   * when no such block is free (the fault then falls back to 4 KiB pages, as the kernel
   * does). Mirrors vma_alloc_folio(order = HPAGE_PMD_ORDER).
   */
  allocHugeFrames(): number {
    const last = this.totalPages - HPAGE_NR + 1;
    for (let tries = 0, head = this.hugeCursor; tries * HPAGE_NR < this.totalPages; tries++) {
      if (head > last) head = HPAGE_NR;
      if (head <= last && this.blockFree(head)) {
        this.hugeCursor = head + HPAGE_NR;
        for (let pfn = head; pfn < head + HPAGE_NR; pfn++) {
          this.flags[pfn] = 0;
          this.refcount[pfn] = 1;
        }
        this.flags[head] = PG_HEAD;
        this.nrFree -= HPAGE_NR;
        return head;
      }
      head += HPAGE_NR;
    }
    return -1;
  }

  private blockFree(head: number): boolean {
    for (let pfn = head; pfn < head + HPAGE_NR; pfn++)
      if (!(this.flags[pfn]! & PG_BUDDY)) return false;
    return true;
  }

  private rebuildFreeList(): void {
    this.top = 0;
    for (let pfn = 1; pfn <= this.totalPages; pfn++)
      if (this.flags[pfn]! & PG_BUDDY) this.freeList[this.top++] = pfn;
  }

  private assertInUse(pfn: number, what: string): void {
    if (!this.validPfn(pfn) || this.refcount[pfn]! <= 0)
      throw new KernelError('EINVAL', `${what}: pfn ${pfn} is not in use`);
  }

  private growTo(cap: number): void {
    const grow = <T extends Int32Array | Uint32Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.refcount = grow(this.refcount, (n) => new Int32Array(n));
    this.mapcount = grow(this.mapcount, (n) => new Int32Array(n));
    this.pincount = grow(this.pincount, (n) => new Int32Array(n));
    this.flags = grow(this.flags, (n) => new Uint32Array(n));
    this.mapping = grow(this.mapping, (n) => new Int32Array(n));
    this.index = grow(this.index, (n) => new Float64Array(n));
    this.contents.length = cap;
    this.capacity = cap;
  }
}

function isZero(src: Uint8Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (src[i] !== 0) return false;
  return true;
}
