/**
 * struct dmirror: one open of a dmirror device file. Its device page table (the kernel's
 * `pt` xarray) is the client's @hmmkit/device page table, with the xarray tags as PTE bits:
 *
 * | xarray entry (lib/test_hmm.c)  | device PTE here                    |
 * | ------------------------------ | ---------------------------------- |
 * | page, no tag (read-only)       | DEVICE_PTE_READ                    |
 * | page, DPT_XA_TAG_WRITE         | DEVICE_PTE_READ | DEVICE_PTE_WRITE |
 * | page, DPT_XA_TAG_ATOMIC        | DEVICE_PTE_READ | DEVICE_PTE_ATOMIC|
 *
 * READ and WRITE copy through the device's DMA path, so every copy is checked by the
 * stale-translation checker against the CPU page table.
 *
 * Locking: `mutex` (dmirror->mutex, the "user lock" of the notifier protocol) guards every
 * change of the page table and pairs with mmu_interval_read_retry(): the invalidate callback
 * takes it (trylock when the range is not blockable), calls setSeq() and erases, so a
 * translation programmed after a successful readRetry() under it cannot be stale. Lock
 * order: mmap_lock -> page lock -> mutex (invalidations run under the first two).
 *
 *   ioctl (READ)                                invalidate(range, cur)
 *   -------------------------------------       ------------------------------------------
 *   mutex; copy while entries exist; unlock     MIGRATE with owner == this device: skip
 *   missing -> fault [first missing, end):      mutex (trylock if !blockable, else false)
 *     per 64 pages: read_begin; mmap_read;      setSeq(cur)
 *     hmm_range_fault; mutex; read_retry?       erase [start >> 12, end >> 12] inclusive
 *     store pfns (WRITE tag iff HMM_PFN_WRITE)  flush the device TLB; unlock
 *   faults++, copy again
 */
import {
  DEVICE_PTE_ATOMIC,
  DEVICE_PTE_READ,
  DEVICE_PTE_WRITE,
  type DeviceContext,
} from '@hmmkit/device';
import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_WRITE,
  HmmPfns,
  type HmmRange,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import { Mm, PAGE_SIZE } from '@hmmkit/mm';
import {
  type MmuIntervalNotifier,
  MmuNotifierEvent,
  type MmuNotifierRange,
  mmuNotifierRangeBlockable,
} from '@hmmkit/mmu-notifier';
import { KernelError, Mutex, trace } from '@hmmkit/runtime';
import { DMIRROR_CHUNK_PAGES, DMIRROR_NOTIFIER_LENGTH } from './constants.js';
import { mmapDeviceFile } from './device-file.js';
import type { DmirrorDevice } from './dmirror-device.js';
import { migrateRangeToDevice, migrateRangeToSystem } from './migrate-to-device.js';
import { snapshotRange } from './snapshot.js';
import { bounceAlloc, checkCmd } from './validate.js';

/** What an ioctl copies back in struct hmm_dmirror_cmd, plus the bounce buffer. */
export interface DmirrorResult {
  /** cmd.cpages: pages copied (READ/WRITE, read back), migrated (TO_SYS). */
  cpages: number;
  /** cmd.faults: fault passes READ/WRITE needed (one per dmirror_fault() call). */
  faults: number;
  /** The device's view of the range, for the ioctls that return data. */
  data?: Uint8Array;
}

/** One device entry being built by Dmirror.program()'s callback. */
export interface PteOut {
  pfn: number;
  perms: number;
}

/** A bounce buffer being filled page by page (struct dmirror_bounce). */
interface Bounce {
  readonly addr: number;
  readonly buf: Uint8Array;
  cpages: number;
}

/**
 * One open file of a dmirror device, mirroring the address space of the process that opened
 * it. Mirrors struct dmirror and the ioctls of dmirror_fops_unlocked_ioctl().
 *
 * Every ioctl method validates `addr` and `npages` as the kernel does (EINVAL for an
 * unaligned `addr`, zero pages or a range that wraps) and throws EINVAL once closed.
 *
 * @example
 * const dmirror = await DmirrorDevice.create(memory, { kind: 'private' }).open(mm);
 * const { data, cpages, faults } = await dmirror.read(addr, 4);
 */
export class Dmirror {
  /** The user lock (dmirror->mutex); see the file comment for what it guards. */
  readonly mutex = new Mutex('dmirror->mutex');
  /** The whole-address-space notifier; set by open(). */
  notifier!: MmuIntervalNotifier;
  #closed = false;

  private constructor(
    /** The device the file belongs to (dmirror->mdevice); also the pgmap owner. */
    readonly device: DmirrorDevice,
    /** The address space mirrored (dmirror->notifier.mm). */
    readonly mm: Mm,
    /** This file's client on the simulated hardware: its page table is the `pt` xarray. */
    readonly ctx: DeviceContext,
  ) {}

  /**
   * Opens `device` for the process owning `mm`. Mirrors dmirror_fops_open(); the usual
   * entry point is DmirrorDevice.open().
   * **Context**: may sleep (the notifier insert takes the mmap_lock).
   * @throws KernelError EINVAL for a bad device, an mm of another memory or an exited mm.
   */
  static async open(device: DmirrorDevice, mm: Mm): Promise<Dmirror> {
    if (typeof device?.hw?.open !== 'function')
      throw new KernelError('EINVAL', `device must be a DmirrorDevice, got ${String(device)}`);
    if (!(mm instanceof Mm) || mm.memory !== device.memory)
      throw new KernelError('EINVAL', `mm must be an Mm of the device's memory, got ${String(mm)}`);
    if (mm.mmUsers() === 0) throw new KernelError('EINVAL', `mm ${mm.id} has exited`);
    const d = new Dmirror(device, mm, device.hw.open(mm, { clientName: 'dmirror' }));
    try {
      d.notifier = await mm.notifiers.insertInterval(0, DMIRROR_NOTIFIER_LENGTH, {
        invalidate: (sub, range, cur) => d.#invalidate(sub, range, cur),
      });
    } catch (e) {
      await device.hw.close(d.ctx);
      throw e;
    }
    return d;
  }

  /** Whether close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- notifier -------------------------------------------------------------------------

  /** dmirror_interval_invalidate(). */
  #invalidate(
    sub: MmuIntervalNotifier,
    range: MmuNotifierRange,
    cur: number,
  ): boolean | Promise<boolean> {
    // Our own migrations: the device page table is updated by the migration itself.
    if (range.event === MmuNotifierEvent.MIGRATE && range.owner === this.device) return true;
    if (mmuNotifierRangeBlockable(range)) return this.#invalidateBlocking(sub, range, cur);
    if (!this.mutex.trylock()) return false;
    this.#update(sub, range, cur);
    return true;
  }

  async #invalidateBlocking(
    sub: MmuIntervalNotifier,
    range: MmuNotifierRange,
    cur: number,
  ): Promise<boolean> {
    await this.mutex.lock();
    this.#update(sub, range, cur);
    return true;
  }

  /** setSeq + dmirror_do_update() + unlock. **Locking**: `mutex` held; never sleeps. */
  #update(sub: MmuIntervalNotifier, range: MmuNotifierRange, cur: number): void {
    sub.setSeq(cur);
    // xa_for_each_range(start >> PAGE_SHIFT, end >> PAGE_SHIFT) is inclusive: the page at
    // `end` goes too, a harmless over-invalidation the model keeps.
    const start = Math.floor(range.start / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.min(
      (Math.floor(range.end / PAGE_SIZE) + 1) * PAGE_SIZE,
      Number.MAX_SAFE_INTEGER,
    );
    this.ctx.unmap(start, end);
    this.ctx.flushTlb(start, end);
    trace('dmirror', 'invalidate', { device: this.device.minor, event: range.event, start, end });
    this.mutex.unlock();
  }

  /**
   * Drops the device entry of page `addr` (xa_erase() from migrate_to_ram, which the kernel
   * does without the mutex). No-op once closed. **Context**: never sleeps.
   */
  erasePage(addr: number): void {
    if (this.#closed) return;
    this.ctx.unmap(addr, addr + PAGE_SIZE);
    this.ctx.flushTlb(addr, addr + PAGE_SIZE);
  }

  /**
   * Stores device entries for [start, end) (xa_store() per page), `entry(i)` giving page i's
   * pfn and perms through `out`, then flushes the device TLB over the range: test_hmm's
   * xarray has no TLB in front of it, the simulated device does, and an entry replaced
   * without a flush (our own migration is not invalidated, see #invalidate) would keep
   * translating to the old page. Pages for which `entry` returns false are left alone.
   * **Locking**: mutex held; never sleeps.
   */
  program(start: number, end: number, entry: (i: number, out: PteOut) => boolean): void {
    const out: PteOut = { pfn: 0, perms: 0 };
    for (let va = start, i = 0; va < end; va += PAGE_SIZE, i++)
      if (entry(i, out)) this.ctx.map(va, out.pfn, out.perms);
    this.ctx.flushTlb(start, end);
  }

  // ---- READ / WRITE ----------------------------------------------------------------------

  /**
   * The device reads `npages` pages at `addr`, faulting them in through hmm_range_fault()
   * where its page table has no entry. Mirrors dmirror_read() (HMM_DMIRROR_READ).
   * **Context**: may sleep; not from an invalidation callback.
   * @throws KernelError EINVAL (bad arguments, closed, process exited), EFAULT (no VMA, or
   * an unreadable one: PROT_NONE), EBUSY (kept being invalidated), ENOMEM.
   * @example
   * const { data, cpages, faults } = await dmirror.read(addr, 16);
   */
  async read(addr: number, npages: number): Promise<DmirrorResult> {
    const end = this.#checkIoctl('read', addr, npages);
    const bounce: Bounce = { addr, buf: bounceAlloc('read', end - addr), cpages: 0 };
    let faults = 0;
    for (let start = addr; !(await this.#locked(() => this.#doRead(start, end, bounce))); ) {
      start = addr + bounce.cpages * PAGE_SIZE;
      await this.#fault(start, end, false);
      faults++;
    }
    return { cpages: bounce.cpages, faults, data: bounce.buf };
  }

  /**
   * The device writes `data` (whole pages) at `addr`, faulting pages in writable where its
   * page table has no writable entry. Mirrors dmirror_write() (HMM_DMIRROR_WRITE).
   * **Context**: may sleep; not from an invalidation callback.
   * @throws KernelError EFAULT (`data` not a Uint8Array; no VMA), EINVAL (bad arguments,
   * `data.length` not a positive multiple of PAGE_SIZE, closed), EPERM (VMA not writable),
   * EBUSY, ENOMEM.
   */
  async write(addr: number, data: Uint8Array): Promise<DmirrorResult> {
    if (!(data instanceof Uint8Array))
      throw new KernelError('EFAULT', `write: data must be a Uint8Array, got ${String(data)}`);
    if (data.length % PAGE_SIZE !== 0)
      throw new KernelError('EINVAL', `write: data.length ${data.length} is not whole pages`);
    const end = this.#checkIoctl('write', addr, data.length / PAGE_SIZE);
    const bounce: Bounce = { addr, buf: bounceAlloc('write', end - addr), cpages: 0 };
    bounce.buf.set(data);
    let faults = 0;
    for (let start = addr; !(await this.#locked(() => this.#doWrite(start, end, bounce))); ) {
      start = addr + bounce.cpages * PAGE_SIZE;
      await this.#fault(start, end, true);
      faults++;
    }
    return { cpages: bounce.cpages, faults };
  }

  /** Runs `fn` under the mutex. */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    await this.mutex.lock();
    try {
      return await fn();
    } finally {
      this.mutex.unlock();
    }
  }

  /** Pages from `start` with an entry having `perms`, up to `end`. **Locking**: mutex. */
  #present(start: number, end: number, perms: number): number {
    let va = start;
    while (va < end && ((this.ctx.entryAt(va)?.perms ?? 0) & perms) === perms) va += PAGE_SIZE;
    return (va - start) / PAGE_SIZE;
  }

  /**
   * dmirror_do_read(): copies pages while entries exist; false (-ENOENT) at the first
   * missing one. **Locking**: mutex held; the DMA does not fault (entries checked first).
   */
  async #doRead(start: number, end: number, b: Bounce): Promise<boolean> {
    const n = this.#present(start, end, DEVICE_PTE_READ);
    const off = start - b.addr;
    if (n > 0) await this.ctx.dmaReadInto(start, b.buf.subarray(off, off + n * PAGE_SIZE));
    b.cpages += n;
    return start + n * PAGE_SIZE === end;
  }

  /** dmirror_do_write(): as #doRead() but needs the WRITE tag. **Locking**: mutex held. */
  async #doWrite(start: number, end: number, b: Bounce): Promise<boolean> {
    const n = this.#present(start, end, DEVICE_PTE_READ | DEVICE_PTE_WRITE);
    const off = start - b.addr;
    if (n > 0) await this.ctx.dmaWrite(start, b.buf.subarray(off, off + n * PAGE_SIZE));
    b.cpages += n;
    return start + n * PAGE_SIZE === end;
  }

  /**
   * dmirror_fault() + dmirror_range_fault(): hmm_range_fault() over [start, end) in chunks of
   * DMIRROR_CHUNK_PAGES through the driver loop, each chunk stored under the mutex.
   */
  async #fault(start: number, end: number, write: boolean): Promise<void> {
    const range: HmmRange = {
      notifier: this.notifier,
      notifierSeq: 0,
      start: 0,
      end: 0,
      hmmPfns: new HmmPfns(DMIRROR_CHUNK_PAGES),
      defaultFlags: HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
      pfnFlagsMask: 0,
      devPrivateOwner: this.device,
    };
    const program = (r: HmmRange) => this.#doFault(r);
    for (let addr = start; addr < end; addr = range.end) {
      range.start = addr;
      range.end = Math.min(addr + DMIRROR_CHUNK_PAGES * PAGE_SIZE, end);
      await hmmRangeFaultLoop(range, { lock: this.mutex, program });
    }
  }

  /**
   * dmirror_do_fault(): stores each pfn, WRITE iff hmm reported HMM_PFN_WRITE.
   * **Locking**: mutex held, after a successful readRetry().
   */
  #doFault(range: HmmRange): void {
    const { pfn, flags } = range.hmmPfns;
    const wantWrite = (range.defaultFlags & HMM_PFN_REQ_WRITE) !== 0;
    this.program(range.start, range.end, (i, out) => {
      const writable = (flags[i]! & HMM_PFN_WRITE) !== 0;
      // The kernel WARNs and fails the ioctl: hmm must honour REQ_WRITE.
      if (!writable && wantWrite)
        throw new KernelError('EFAULT', `hmm gave a read-only entry to a write fault`);
      out.pfn = pfn[i]!;
      out.perms = DEVICE_PTE_READ | (writable ? DEVICE_PTE_WRITE : 0);
      return true;
    });
  }

  // ---- migration --------------------------------------------------------------------------

  /**
   * Migrates the system pages of the range into this device's memory, maps them, and reads
   * the range back from the device. Mirrors dmirror_migrate_to_device()
   * (HMM_DMIRROR_MIGRATE_TO_DEV).
   * **Context**: may sleep; takes the mmap_lock for read.
   * @throws KernelError EINVAL (bad arguments, closed, exited, a chunk start outside any
   * VMA or in one without VM_READ, a VMA migrate_vma refuses); ENOENT when a page of the
   * range did not end up in the device page table (shared or file mapping, device memory
   * exhausted, page busy); ENOMEM.
   */
  async migrateToDevice(addr: number, npages: number): Promise<DmirrorResult> {
    const end = this.#checkIoctl('migrateToDevice', addr, npages);
    const bounce: Bounce = { addr, buf: bounceAlloc('migrateToDevice', end - addr), cpages: 0 };
    await migrateRangeToDevice(this, addr, end);
    return this.#readBack('migrateToDevice', addr, end, bounce);
  }

  /**
   * Migrates this device's pages in the range back to system memory. `cpages` counts the
   * pages that moved. Mirrors dmirror_migrate_to_system() (HMM_DMIRROR_MIGRATE_TO_SYS).
   * **Context**: may sleep; takes the mmap_lock for read.
   * @throws KernelError EINVAL (bad arguments, closed, exited, no readable VMA at a chunk).
   */
  async migrateToSystem(addr: number, npages: number): Promise<DmirrorResult> {
    const end = this.#checkIoctl('migrateToSystem', addr, npages);
    return { cpages: await migrateRangeToSystem(this, addr, end), faults: 0 };
  }

  /** The final dmirror_do_read() of MIGRATE_TO_DEV and EXCLUSIVE: ENOENT if incomplete. */
  async #readBack(fn: string, addr: number, end: number, b: Bounce): Promise<DmirrorResult> {
    if (!(await this.#locked(() => this.#doRead(addr, end, b))))
      throw new KernelError(
        'ENOENT',
        `${fn}: page 0x${(addr + b.cpages * PAGE_SIZE).toString(16)} is not mapped by the device`,
      );
    return { cpages: b.cpages, faults: 0, data: b.buf };
  }

  // ---- snapshot, exclusive ----------------------------------------------------------------

  /**
   * One HMM_DMIRROR_PROT_* byte per page describing how the CPU maps it, without faulting.
   * Mirrors dmirror_snapshot() (HMM_DMIRROR_SNAPSHOT).
   * **Context**: may sleep; inserts and removes a temporary notifier per chunk.
   * @throws KernelError EINVAL (bad arguments, closed, exited), EBUSY, ENOMEM.
   */
  async snapshot(addr: number, npages: number): Promise<Uint8Array> {
    const end = this.#checkIoctl('snapshot', addr, npages);
    const out = bounceAlloc('snapshot', npages);
    await snapshotRange(this, addr, end, out);
    return out;
  }

  /**
   * Makes every page of the range device-exclusive (CPU entries replaced, device entries
   * tagged ATOMIC), then reads it back. Mirrors dmirror_exclusive() (HMM_DMIRROR_EXCLUSIVE).
   * **Context**: may sleep; takes the mmap_lock for read, page locks and the mutex.
   * @throws KernelError EINVAL (bad arguments, closed, exited); what makeDeviceExclusive()
   * throws (EFAULT: no VMA or not writable; EOPNOTSUPP: not anonymous); ENOENT when an
   * entry was invalidated before the read back.
   */
  async exclusive(addr: number, npages: number): Promise<DmirrorResult> {
    const end = this.#checkIoctl('exclusive', addr, npages);
    const mm = this.mm;
    if (!mm.mmgetNotZero()) throw new KernelError('EINVAL', `mm ${mm.id} has exited`);
    await mm.mmapLock.downRead();
    try {
      for (let a = addr; a < end; a += PAGE_SIZE) {
        const page = await makeDeviceExclusive(mm, a, null);
        try {
          await this.#locked(async () =>
            this.program(a, a + PAGE_SIZE, (_i, out) => {
              out.pfn = page.pfn;
              out.perms = DEVICE_PTE_READ | DEVICE_PTE_ATOMIC;
              return true;
            }),
          );
        } finally {
          page.unlock();
          page.put();
        }
      }
    } finally {
      mm.mmapLock.upRead();
      await mm.mmput();
    }
    const bounce: Bounce = { addr, buf: bounceAlloc('exclusive', end - addr), cpages: 0 };
    return this.#readBack('exclusive', addr, end, bounce);
  }

  /**
   * Resolves when no page of the range is still mapped ATOMIC by this file. Mirrors
   * dmirror_check_atomic() (HMM_DMIRROR_CHECK_EXCLUSIVE).
   * **Context**: never sleeps in the check itself.
   * @throws KernelError EPERM when a page still has its ATOMIC entry; EINVAL for bad
   * arguments or a closed file.
   */
  async checkExclusive(addr: number, npages: number): Promise<void> {
    const end = this.#checkIoctl('checkExclusive', addr, npages);
    for (let va = addr; va < end; va += PAGE_SIZE)
      if ((this.ctx.entryAt(va)?.perms ?? 0) & DEVICE_PTE_ATOMIC)
        throw new KernelError('EPERM', `page 0x${va.toString(16)} is still device-exclusive`);
  }

  // ---- device-wide, mmap, close ------------------------------------------------------------

  /**
   * Evicts all of the device's memory (every process's pages) back to system memory.
   * Mirrors dmirror_device_remove_chunks() (HMM_DMIRROR_RELEASE).
   * **Context**: may sleep.
   * @throws KernelError EINVAL once closed.
   */
  async release(): Promise<void> {
    this.#assertOpen('release');
    await this.device.removeChunks();
  }

  /**
   * mmap() of the device file by the process owning `mm`: a VM_MIXEDMAP mapping of `npages`
   * fresh zeroed pages. Returns the address. Mirrors dmirror_fops_mmap().
   * **Context**: may sleep.
   * @throws KernelError EINVAL (bad arguments, MAP_ANONYMOUS, closed), ENOMEM; what
   * Mm.mmap() throws.
   */
  async mmapDeviceFile(mm: Mm, npages: number, prot: number, flags: number): Promise<number> {
    this.#assertOpen('mmapDeviceFile');
    if (!(mm instanceof Mm) || mm.memory !== this.mm.memory)
      throw new KernelError(
        'EINVAL',
        `mmapDeviceFile: mm must be an Mm of this memory, got ${String(mm)}`,
      );
    return mmapDeviceFile(mm, npages, prot, flags);
  }

  /**
   * Closes the file: removes the notifier (waiting for running callbacks) and drops the
   * device page table. Mirrors dmirror_fops_release().
   * **Context**: may sleep; not from an invalidation callback.
   * @throws KernelError EINVAL when already closed.
   */
  async close(): Promise<void> {
    this.#assertOpen('close');
    this.#closed = true;
    await this.notifier.remove();
    await this.device.hw.close(this.ctx);
  }

  #assertOpen(fn: string): void {
    if (this.#closed) throw new KernelError('EINVAL', `${fn}: the dmirror file is closed`);
  }

  /** The ioctl prologue: open file, valid cmd, and (READ/WRITE) a live process. */
  #checkIoctl(fn: string, addr: number, npages: number): number {
    this.#assertOpen(fn);
    const end = checkCmd(fn, addr, npages);
    trace('dmirror', fn, { device: this.device.minor, addr, npages });
    if (this.mm.mmUsers() === 0)
      throw new KernelError('EINVAL', `${fn}: mm ${this.mm.id} has exited`);
    return end;
  }
}
