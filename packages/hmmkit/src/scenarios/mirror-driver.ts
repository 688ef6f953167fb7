/**
 * A minimal mirroring driver for the scenarios: one device translation per page,
 * kept coherent with the CPU page table. Two designs are offered:
 * - 'sequence': an interval notifier and the documented fault path (read_begin /
 *   hmm_range_fault / lock / read_retry / program / unlock, Documentation/mm/hmm.rst),
 *   through @hmmkit/hmm's hmmRangeFaultLoop;
 * - 'valid-flag': the pre-2019 pattern the interval notifier replaced: a classic
 *   notifier clears `valid` in invalidate_range_start and sets it again in
 *   invalidate_range_end; the fault path programs what it read if `valid` is set
 *   when it looks. A whole invalidation between the walk and the check goes unseen.
 *
 * Locking: `lock` (the driver's "user lock") guards `translations` and `valid`;
 * the interval callback takes it and calls setSeq under it, pairing with the
 * readRetry the fault path does under it.
 */

import {
  HMM_PFN_REQ_FAULT,
  HmmPfns,
  type HmmRange,
  hmmPfnToPage,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import { type Mm, PAGE_SIZE, PageTableWalker, PteKind, VM_FAULT_ERROR } from '@hmmkit/mm';
import {
  type MmuIntervalNotifier,
  type MmuNotifier,
  MmuNotifierEvent,
  type MmuNotifierRange,
  mmuNotifierRangeBlockable,
} from '@hmmkit/mmu-notifier';
import { ERRNO, KernelError, Mutex, schedulePoint } from '@hmmkit/runtime';

/** Which fault path the mirror uses. */
export type MirrorFaultPath = 'sequence' | 'valid-flag';

/** A device mirror of one process's range [start, end). */
export class MirrorDriver {
  readonly lock = new Mutex('mirror->lock');
  /** Device translations: virtual page number → pfn. Guarded by `lock`. */
  readonly translations = new Map<number, number>();
  /** Events the callback saw, for narration. */
  readonly events: string[] = [];
  private valid = true;
  private sub: MmuIntervalNotifier | undefined;
  private classic: MmuNotifier | undefined;
  private readonly walker: PageTableWalker;

  private constructor(
    readonly mm: Mm,
    readonly path: MirrorFaultPath,
  ) {
    this.walker = new PageTableWalker(mm);
  }

  /** Attaches a mirror over [start, start + length) of `mm`. */
  static async attach(
    mm: Mm,
    start: number,
    length: number,
    path: MirrorFaultPath,
  ): Promise<MirrorDriver> {
    const d = new MirrorDriver(mm, path);
    if (path === 'sequence') {
      d.sub = await mm.notifiers.insertInterval(start, length, {
        invalidate: (sub, range, cur) => d.invalidate(sub, range, cur),
      });
    } else {
      d.classic = await mm.notifiers.register({
        invalidateRangeStart: (_mn, range) => d.classicStart(range),
        invalidateRangeEnd: (_mn, range) => d.classicEnd(range),
      });
    }
    return d;
  }

  /** The device takes a translation for `addr`, faulting the CPU page in if needed. */
  async fault(addr: number): Promise<number> {
    return this.path === 'sequence' ? this.faultSequence(addr) : this.faultValidFlag(addr);
  }

  /** The pfn the CPU maps at `addr` now, or undefined. */
  cpuPfn(addr: number): number | undefined {
    this.walker.reset(addr, addr + PAGE_SIZE);
    this.walker.next();
    return this.walker.kind === PteKind.PRESENT ? this.walker.pfn : undefined;
  }

  /** Throws if a device translation differs from what the CPU maps now. */
  checkCoherent(): void {
    for (const [vpn, pfn] of this.translations) {
      const cpu = this.cpuPfn(vpn * PAGE_SIZE);
      if (cpu !== pfn)
        throw new Error(
          `stale device translation at ${hex(vpn * PAGE_SIZE)}: device pfn ${pfn}, CPU pfn ${cpu ?? 'none'}`,
        );
    }
  }

  /** Detaches the mirror (mmu_interval_notifier_remove). */
  async detach(): Promise<void> {
    await this.sub?.remove();
    await this.classic?.unregister();
  }

  private async invalidate(
    sub: MmuIntervalNotifier,
    range: MmuNotifierRange,
    cur: number,
  ): Promise<boolean> {
    if (!mmuNotifierRangeBlockable(range)) {
      if (!this.lock.trylock()) return false;
    } else {
      await this.lock.lock();
    }
    sub.setSeq(cur);
    this.zap(range);
    this.lock.unlock();
    return true;
  }

  private async classicStart(range: MmuNotifierRange): Promise<number> {
    if (!mmuNotifierRangeBlockable(range)) return -ERRNO.EAGAIN;
    await this.lock.lock();
    this.valid = false;
    this.zap(range);
    this.lock.unlock();
    return 0;
  }

  private async classicEnd(_range: MmuNotifierRange): Promise<void> {
    await this.lock.lock();
    this.valid = true;
    this.lock.unlock();
  }

  /** Drops the device translations in `range`; the caller holds `lock`. */
  private zap(range: MmuNotifierRange): void {
    this.lock.assertHeld();
    this.events.push(`${MmuNotifierEvent[range.event]} [${hex(range.start)}, ${hex(range.end)})`);
    for (let va = range.start; va < range.end; va += PAGE_SIZE)
      this.translations.delete(va / PAGE_SIZE);
  }

  private async faultSequence(addr: number): Promise<number> {
    const range: HmmRange = {
      notifier: this.sub!,
      notifierSeq: 0,
      start: addr,
      end: addr + PAGE_SIZE,
      hmmPfns: new HmmPfns(1),
      defaultFlags: HMM_PFN_REQ_FAULT,
      pfnFlagsMask: 0,
    };
    let pfn = -1;
    await hmmRangeFaultLoop(range, {
      lock: this.lock,
      program: (r) => {
        pfn = hmmPfnToPage(r.hmmPfns, 0);
        this.translations.set(addr / PAGE_SIZE, pfn);
      },
    });
    return pfn;
  }

  private async faultValidFlag(addr: number): Promise<number> {
    for (;;) {
      const pfn = await this.snapshot(addr);
      await this.lock.lock();
      if (!this.valid) {
        this.lock.unlock();
        await schedulePoint();
        continue;
      }
      this.translations.set(addr / PAGE_SIZE, pfn);
      this.lock.unlock();
      return pfn;
    }
  }

  /** The valid-flag driver's own page-table read under the mmap read lock, faulting until present. */
  private async snapshot(addr: number): Promise<number> {
    await this.mm.mmapLock.downRead();
    try {
      for (;;) {
        const pfn = this.cpuPfn(addr);
        if (pfn !== undefined) return pfn;
        const ret = await this.mm.handleMmFault(addr, 0);
        if (ret & VM_FAULT_ERROR)
          throw new KernelError(
            'EFAULT',
            `device fault at ${hex(addr)} failed (VM_FAULT ${hex(ret)})`,
          );
      }
    } finally {
      this.mm.mmapLock.upRead();
    }
  }
}

/** Formats an address as hex. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
