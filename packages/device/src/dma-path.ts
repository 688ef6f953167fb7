/**
 * The DMA path of one client, per page: TLB -> page table -> fault to the driver when the
 * entry is absent or lacks the permission (the access sleeps until the device's fault task
 * has run the handler, then replays) -> stale-translation check -> copy into or out of the
 * frame. Allocates nothing per page.
 *
 * Locking: reads the page table and TLB without a lock, as the hardware does; sleeps only
 * while a fault is handled.
 */
import { PAGE_SIZE } from '@hmmkit/mm';
import { KernelError, reportViolation, trace } from '@hmmkit/runtime';
import type { DmaOp } from './command-queue.js';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, type DeviceAccess } from './constants.js';
import type { DeviceContext, DeviceShared } from './context.js';
import { type DevicePageTable, entryPerms, entryPfn } from './device-page-table.js';
import { type StaleChecker, StaleTranslationError } from './stale-check.js';
import type { DeviceTlb } from './tlb.js';

/** Access name per permission mask (READ 1, READ|WRITE 3, READ|WRITE|ATOMIC 7). */
const ACCESS_NAMES: DeviceAccess[] = [
  'read',
  'read',
  'write',
  'write',
  'atomic',
  'atomic',
  'atomic',
  'atomic',
];

/** Translation and copy for one client (internal to the package). */
export class DmaPath {
  constructor(
    readonly ctx: DeviceContext,
    readonly device: DeviceShared,
    readonly pt: DevicePageTable,
    readonly tlb: DeviceTlb,
    readonly checker: StaleChecker,
  ) {}

  /** Copies `length` bytes between `buf` (from offset `from`) and the device address `va`. */
  async run(
    va: number,
    buf: Uint8Array,
    from: number,
    length: number,
    need: number,
  ): Promise<void> {
    const mem = this.device.memory;
    const write = (need & DEVICE_PTE_WRITE) !== 0;
    let done = 0;
    let continued = false;
    while (done < length) {
      const addr = va + done;
      const vpn = Math.floor(addr / PAGE_SIZE);
      const off = addr - vpn * PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - off, length - done);
      let pfn = this.#translate(vpn, need);
      if (pfn < 0) {
        pfn = await this.translateOrFault(vpn, need);
        continued = false;
      } else {
        this.#check(vpn, pfn, need, continued);
        continued = true;
      }
      if (write) mem.writePage(pfn, off, buf, from + done, len);
      else mem.readPage(pfn, off, buf, from + done, len);
      done += len;
    }
  }

  /** Runs a job's ops (when the job starts). */
  async runOps(ops: readonly DmaOp[]): Promise<void> {
    for (const o of ops) {
      if (o.op === 'write')
        await this.run(o.va, o.data, 0, o.data.length, DEVICE_PTE_READ | DEVICE_PTE_WRITE);
      else {
        const buf = new Uint8Array(o.length);
        await this.run(o.src, buf, 0, o.length, DEVICE_PTE_READ);
        await this.run(o.dst, buf, 0, o.length, DEVICE_PTE_READ | DEVICE_PTE_WRITE);
      }
    }
  }

  /** TLB, then page table; pfn, or -1 when the access must fault. Allocates nothing. */
  #translate(vpn: number, need: number): number {
    let e = this.tlb.lookup(vpn);
    if (e !== 0 && (entryPerms(e) & need) !== need) {
      this.tlb.drop(vpn);
      e = 0;
    }
    if (e === 0) {
      e = this.pt.get(vpn);
      if (e === 0 || (entryPerms(e) & need) !== need) return -1;
      this.tlb.fill(vpn, e);
    }
    return entryPfn(e);
  }

  async translateOrFault(vpn: number, need: number): Promise<number> {
    const access = ACCESS_NAMES[need]!;
    for (let tries = 0; ; tries++) {
      const pfn = this.#translate(vpn, need);
      if (pfn >= 0) {
        this.#check(vpn, pfn, need, false);
        return pfn;
      }
      if (tries === this.device.maxFaultRetries)
        throw new KernelError(
          'EFAULT',
          `${this.device.name}: ${access} fault at 0x${(vpn * PAGE_SIZE).toString(16)} not resolved after ${tries} retries`,
        );
      this.ctx.faults++;
      await this.device.faults.raise(this.ctx, vpn * PAGE_SIZE, access);
      this.ctx.assertOpen(`${this.device.name} DMA`);
    }
  }

  /** Runs the stale check; `continued`: no await since the previous page's check. */
  #check(vpn: number, pfn: number, need: number, continued: boolean): void {
    if (this.device.staleCheck === 'off') return;
    const va = vpn * PAGE_SIZE;
    const reason = this.checker.check(va, pfn, (need & DEVICE_PTE_WRITE) !== 0, continued);
    if (reason === undefined) return;
    const a = {
      device: this.device.name,
      clientId: this.ctx.clientId,
      va,
      pfn,
      access: ACCESS_NAMES[need]!,
      reason,
      cpu: this.checker.cpuView(va),
    };
    this.device.violations.push(a);
    trace('device', 'stale-access', { ...a });
    if (this.device.staleCheck !== 'throw') return;
    const e = new StaleTranslationError(a);
    // Registered with the runtime too, so an explorer run fails even if a driver swallows it.
    reportViolation('assertion', e.message);
    throw e;
  }
}
