/**
 * A minimal mirror driver for the tests, in the shape of Documentation/mm/hmm.rst and
 * test_hmm.c: one interval notifier over the whole address space, an update lock, an
 * invalidate callback that clears the device PTEs and flushes the TLB, and a fault handler
 * that runs the hmm_range_fault() loop and programs the PTE under the update lock. Its `bug`
 * option makes it forget a step on purpose.
 */
import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_WRITE,
  HmmPfns,
  type HmmRange,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import { type Mm, PAGE_SIZE, TASK_SIZE } from '@hmmkit/mm';
import {
  type MmuIntervalNotifier,
  type MmuNotifierRange,
  mmuNotifierRangeBlockable,
} from '@hmmkit/mmu-notifier';
import { Mutex } from '@hmmkit/runtime';
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

  private constructor(
    readonly ctx: DeviceContext,
    readonly mm: Mm,
    readonly bug: DriverBug,
    readonly owner: unknown,
  ) {}

  /**
   * open(): a client on `device` mirroring `mm`, with its notifier and fault handler.
   * `owner`: the pgmap owner of this device's private pages (hmm_range.dev_private_owner).
   */
  static async open(
    device: Device,
    mm: Mm,
    bug: DriverBug = 'none',
    owner?: unknown,
  ): Promise<MirrorDriver> {
    const d = new MirrorDriver(device.open(mm), mm, bug, owner);
    d.notifier = await mm.notifiers.insertInterval(0, TASK_SIZE, {
      invalidate: (sub, range, cur) => d.invalidate(sub, range, cur),
    });
    device.setFaultHandler((f) => d.fault(f));
    return d;
  }

  async invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, cur: number) {
    if (mmuNotifierRangeBlockable(range)) await this.lock.lock();
    else if (!this.lock.trylock()) return false;
    sub.setSeq(cur);
    this.invalidations++;
    if (this.bug !== 'no-invalidate') {
      this.ctx.unmap(range.start, range.end);
      if (this.bug !== 'no-flush') this.ctx.flushTlb(range.start, range.end);
    }
    this.lock.unlock();
    return true;
  }

  async fault(f: DeviceFault): Promise<void> {
    const range: HmmRange = {
      notifier: this.notifier,
      notifierSeq: 0,
      start: f.va,
      end: f.va + PAGE_SIZE,
      hmmPfns: new HmmPfns(1),
      defaultFlags: HMM_PFN_REQ_FAULT | (f.access === 'read' ? 0 : HMM_PFN_REQ_WRITE),
      pfnFlagsMask: 0,
      devPrivateOwner: this.owner,
    };
    await hmmRangeFaultLoop(range, {
      lock: this.lock,
      program: (r) => {
        const write = (r.hmmPfns.flags[0]! & HMM_PFN_WRITE) !== 0;
        this.ctx.map(f.va, r.hmmPfns.pfn[0]!, DEVICE_PTE_READ | (write ? DEVICE_PTE_WRITE : 0));
      },
    });
  }
}
