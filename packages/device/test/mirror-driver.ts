/**
 * A minimal mirror driver for the tests, in the shape of Documentation/mm/hmm.rst and
 * test_hmm.c: one interval notifier over the whole address space, an update lock, an
 * invalidate callback that clears the device PTEs and flushes the TLB, and a fault handler
 * that faults the page in on the CPU side, then programs the PTE only if
 * mmu_interval_read_retry() allows. Its `bug` option makes it forget a step on purpose.
 *
 * The CPU-side fault stands in for hmm_range_fault(): handle_mm_fault() under the mmap
 * read lock, then a walk of the CPU page table for the pfn and its writability.
 */
import {
  FAULT_FLAG_WRITE,
  type Mm,
  PAGE_SIZE,
  PageTableWalker,
  PteKind,
  TASK_SIZE,
} from '@hmmkit/mm';
import {
  MMU_NOTIFIER_RANGE_BLOCKABLE,
  type MmuIntervalNotifier,
  type MmuNotifierRange,
} from '@hmmkit/mmu-notifier';
import { KernelError, Mutex } from '@hmmkit/runtime';
import {
  DEVICE_PTE_READ,
  DEVICE_PTE_WRITE,
  type Device,
  type DeviceContext,
  type DeviceFault,
} from '../src/index.js';

/** Which step the driver forgets. */
export type DriverBug = 'none' | 'no-invalidate' | 'no-flush';

export class MirrorDriver {
  readonly lock = new Mutex('mirror update');
  notifier!: MmuIntervalNotifier;
  invalidations = 0;
  readonly #walker: PageTableWalker;

  private constructor(
    readonly ctx: DeviceContext,
    readonly mm: Mm,
    readonly bug: DriverBug,
  ) {
    this.#walker = new PageTableWalker(mm);
  }

  /** open(): a client on `device` mirroring `mm`, with its notifier and fault handler. */
  static async open(device: Device, mm: Mm, bug: DriverBug = 'none'): Promise<MirrorDriver> {
    const d = new MirrorDriver(device.open(mm), mm, bug);
    d.notifier = await mm.notifiers.insertInterval(0, TASK_SIZE, {
      invalidate: (sub, range, cur) => d.invalidate(sub, range, cur),
    });
    device.setFaultHandler((f) => d.fault(f));
    return d;
  }

  async invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, cur: number) {
    if (range.flags & MMU_NOTIFIER_RANGE_BLOCKABLE) await this.lock.lock();
    else if (!this.lock.trylock()) return false;
    sub.setSeq(cur);
    this.invalidations++;
    if (this.bug !== 'no-invalidate') {
      this.ctx.unmap(range.start, Math.min(range.end, TASK_SIZE));
      if (this.bug !== 'no-flush') this.ctx.flushTlb(range.start, Math.min(range.end, TASK_SIZE));
    }
    this.lock.unlock();
    return true;
  }

  async fault(f: DeviceFault): Promise<void> {
    const write = f.access !== 'read';
    for (;;) {
      const seq = await this.notifier.readBegin();
      const perms = await this.#cpuFault(f.va, write);
      await this.lock.lock();
      if (this.notifier.readRetry(seq)) {
        this.lock.unlock();
        continue;
      }
      this.ctx.map(f.va, this.#walker.pfn, perms);
      this.lock.unlock();
      return;
    }
  }

  /** The hmm_range_fault() stand-in: fault, then read the CPU entry; returns device perms. */
  async #cpuFault(va: number, write: boolean): Promise<number> {
    if (!this.mm.mmgetNotZero()) throw new KernelError('EFAULT', 'mm is gone');
    await this.mm.mmapLock.downRead();
    try {
      for (let tries = 0; tries < 4; tries++) {
        if (this.#usable(va, write))
          return DEVICE_PTE_READ | (this.#walker.writable ? DEVICE_PTE_WRITE : 0);
        if ((await this.mm.handleMmFault(va, write ? FAULT_FLAG_WRITE : 0)) !== 0)
          throw new KernelError('EFAULT', `CPU fault failed at 0x${va.toString(16)}`);
      }
      throw new KernelError('EFAULT', `page at 0x${va.toString(16)} did not settle`);
    } finally {
      this.mm.mmapLock.upRead();
      await this.mm.mmput();
    }
  }

  #usable(va: number, write: boolean): boolean {
    const w = this.#walker;
    w.reset(va, va + PAGE_SIZE);
    w.next();
    return w.kind === PteKind.PRESENT && !w.protnone && (!write || w.writable);
  }
}
