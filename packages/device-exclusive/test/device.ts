/**
 * A minimal device with atomic mappings of system memory, after nouveau's
 * nouveau_atomic_range_fault() and test_hmm's dmirror: an interval notifier over the region,
 * a device lock, and a table address -> pfn of pages the device may access atomically.
 * Its notifier skips only the MMU_NOTIFY_EXCLUSIVE event that carries its own owner.
 */

import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import { type Mm, PAGE_SIZE, PageTableWalker, type PhysicalMemory, PteKind } from '@hmmkit/mm';
import {
  type MmuIntervalNotifier,
  MmuNotifierEvent,
  type MmuNotifierRange,
} from '@hmmkit/mmu-notifier';
import { KernelError, Mutex } from '@hmmkit/runtime';

export interface DeviceOptions {
  /** Skip our own MMU_NOTIFY_EXCLUSIVE (default true); false reproduces the livelock. */
  filterOwn?: boolean;
  /** Attempts before giving up with EBUSY (nouveau's timeout). */
  maxAttempts?: number;
  /**
   * `nouveau`: read_begin, make exclusive, lock, read_retry (nouveau_atomic_range_fault).
   * `walk` (default): make exclusive, read_begin, lock, check the CPU entry is still our
   * exclusive entry, read_retry: the hmm_range_fault order, which ignores the restore of an
   * earlier exclusive entry that the make step itself triggers.
   */
  order?: 'nouveau' | 'walk';
}

export class AtomicDevice {
  /** Device page table of atomic mappings: page address -> pfn. Guarded by `lock`. */
  readonly atomic = new Map<number, number>();
  readonly lock = new Mutex('atomic_dev');
  /** Every invalidation the notifier received (filtered ones included). */
  readonly seen: { event: MmuNotifierEvent; owner: unknown; start: number; skipped: boolean }[] =
    [];
  attempts = 0;
  private notifier!: MmuIntervalNotifier;
  private readonly filterOwn: boolean;
  private readonly maxAttempts: number;
  private readonly order: 'nouveau' | 'walk';

  private constructor(
    readonly mm: Mm,
    readonly name: string,
    opts: DeviceOptions,
  ) {
    this.filterOwn = opts.filterOwn ?? true;
    this.maxAttempts = opts.maxAttempts ?? 64;
    this.order = opts.order ?? 'walk';
  }

  static async open(
    mm: Mm,
    start: number,
    length: number,
    name = 'dev',
    opts: DeviceOptions = {},
  ): Promise<AtomicDevice> {
    const dev = new AtomicDevice(mm, name, opts);
    dev.notifier = await mm.notifiers.insertInterval(start, length, {
      invalidate: (sub, range, cur) => dev.invalidate(sub, range, cur),
    });
    return dev;
  }

  private async invalidate(
    sub: MmuIntervalNotifier,
    range: MmuNotifierRange,
    cur: number,
  ): Promise<boolean> {
    const skipped =
      this.filterOwn && range.event === MmuNotifierEvent.EXCLUSIVE && range.owner === this;
    this.seen.push({ event: range.event, owner: range.owner, start: range.start, skipped });
    if (skipped) return true;
    await this.lock.lock();
    sub.setSeq(cur);
    for (const a of [...this.atomic.keys()])
      if (a >= range.start && a < range.end) this.atomic.delete(a);
    this.lock.unlock();
    return true;
  }

  /**
   * Device fault for atomic access (nouveau_atomic_range_fault): make the page exclusive,
   * then map it under the device lock if no invalidation ran since read_begin.
   */
  async takeAtomic(addr: number): Promise<void> {
    for (;;) {
      if (++this.attempts > this.maxAttempts)
        throw new KernelError('EBUSY', `${this.name}: no stable exclusive mapping at ${addr}`);
      let seq = this.order === 'nouveau' ? await this.notifier.readBegin() : 0;
      await this.mm.mmapLock.downRead();
      let page: Awaited<ReturnType<typeof makeDeviceExclusive>>;
      try {
        page = await makeDeviceExclusive(this.mm, addr, this);
      } finally {
        this.mm.mmapLock.upRead();
      }
      if (this.order === 'walk') seq = await this.notifier.readBegin();
      await this.lock.lock();
      const e = this.order === 'walk' ? entryAt(this.mm, addr) : undefined;
      const moved = e !== undefined && (e.kind !== PteKind.DEVICE_EXCLUSIVE || e.pfn !== page.pfn);
      const stale = moved || this.notifier.readRetry(seq);
      if (!stale) this.atomic.set(addr, page.pfn);
      this.lock.unlock();
      page.unlock();
      page.put();
      if (!stale) return;
    }
  }

  /**
   * A device atomic add of `delta` to the byte at `addr`: through its atomic mapping,
   * faulting one in when missing. Checks exclusivity while it holds the mapping.
   */
  async atomicAdd(addr: number, delta: number, others: AtomicDevice[] = []): Promise<void> {
    const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    for (;;) {
      await this.lock.lock();
      const pfn = this.atomic.get(page);
      if (pfn !== undefined) {
        assertExclusive(this.mm, page, pfn, this, others);
        const b = new Uint8Array(1);
        this.mm.memory.readPage(pfn, addr - page, b, 0, 1);
        b[0] = b[0]! + delta;
        this.mm.memory.writePage(pfn, addr - page, b, 0, 1);
        this.lock.unlock();
        return;
      }
      this.lock.unlock();
      await this.takeAtomic(page);
    }
  }

  /** The device's view of `length` bytes at `addr` through its atomic mapping. */
  view(addr: number, length: number): Uint8Array | undefined {
    const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const pfn = this.atomic.get(page);
    if (pfn === undefined) return undefined;
    const out = new Uint8Array(length);
    this.mm.memory.readPage(pfn, addr - page, out, 0, length);
    return out;
  }
}

/** While a device holds an atomic mapping, the CPU entry is that page's exclusive entry. */
function assertExclusive(
  mm: Mm,
  addr: number,
  pfn: number,
  dev: AtomicDevice,
  others: AtomicDevice[],
): void {
  const w = entryAt(mm, addr);
  if (w.kind !== PteKind.DEVICE_EXCLUSIVE || w.pfn !== pfn)
    throw new Error(`${dev.name} maps pfn ${pfn} atomically but the CPU entry is kind ${w.kind}`);
  for (const o of others)
    if (o.atomic.has(addr))
      throw new Error(`${dev.name} and ${o.name} both map ${addr} atomically`);
}

/** The walker positioned on the entry at `addr`. */
export function entryAt(mm: Mm, addr: number): PageTableWalker {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + PAGE_SIZE);
  w.next();
  return w;
}

/** Every device-exclusive entry of `mm` (addresses). */
export function exclusiveEntries(mm: Mm): number[] {
  const out: number[] = [];
  const w = new PageTableWalker(mm);
  for (const v of mm.vmas) {
    w.reset(v.start, v.end);
    while (w.nextEntry()) if (w.kind === PteKind.DEVICE_EXCLUSIVE) out.push(w.addr);
  }
  return out;
}

/** Runs `fn` with the mmap_lock held for read. */
export async function withMmapRead<T>(mm: Mm, fn: () => Promise<T>): Promise<T> {
  await mm.mmapLock.downRead();
  try {
    return await fn();
  } finally {
    mm.mmapLock.upRead();
  }
}

/** Whether every frame is back on the free list. */
export function allFree(memory: PhysicalMemory): boolean {
  return memory.freePages === memory.totalPages;
}
