/**
 * Device page-fault delivery: a queue of faults (context, page address, access) drained by
 * the device's fault task, which calls the driver's handler for each one and then lets the
 * stalled access replay its translation. This is a retry-fault device: a GPU with XNACK
 * on (amdgpu's svm_range_restore_pages from the IH ring), nouveau's fault buffer
 * (nouveau_svm_fault), an ODP NIC's page-fault events.
 *
 * Duplicates are filtered as GPUs' fault filters do (amdgpu_gmc_filter_faults): a fault for
 * a page that already has an unhandled fault of the same or a stronger access waits on that
 * one instead of queueing another.
 *
 * Locking / Context: the handler runs in the device's fault task, with no lock held by the
 * device; it may sleep (take the mmap_lock, run hmm_range_fault, take the driver lock). It
 * must not wait for a fence of the same device: the engine that would signal it is stalled
 * on the fault (the model reports that as a lock misuse or a deadlock, as lockdep would).
 */
import { KernelError, spawn, trace, WaitQueue } from '@hmmkit/runtime';
import type { DeviceAccess } from './constants.js';
import type { DeviceContext } from './context.js';

/** One device page fault as the driver's handler receives it. */
export interface DeviceFault {
  /** The client whose address space faulted. */
  readonly context: DeviceContext;
  /** Page-aligned virtual address of the faulting access. */
  readonly va: number;
  /** What the access needed. */
  readonly access: DeviceAccess;
}

/**
 * The driver's fault handler: makes the page accessible (typically mmu_interval_read_begin,
 * hmm_range_fault under the mmap_lock, then programs the PTE under the driver lock if
 * mmu_interval_read_retry allows) and returns; the access is then replayed. Throwing makes
 * the access fail with EFAULT (an unrecoverable fault: the context would be killed).
 */
export type DeviceFaultHandler = (fault: DeviceFault) => Promise<void> | void;

const STRENGTH: Record<DeviceAccess, number> = { read: 0, write: 1, atomic: 2 };

class FaultRecord implements DeviceFault {
  done = false;
  error: unknown;
  constructor(
    readonly context: DeviceContext,
    readonly va: number,
    readonly access: DeviceAccess,
  ) {}
}

/** The fault ring and its draining task (internal to the device). */
export class FaultQueue {
  handler: DeviceFaultHandler | undefined;
  /** Faults delivered to the handler so far. */
  delivered = 0;
  readonly #pending: FaultRecord[] = [];
  readonly #wq: WaitQueue;
  #worker = false;

  constructor(readonly name: string) {
    this.#wq = new WaitQueue(`${name} fault`);
  }

  /**
   * Reports a fault and sleeps until the handler has run for it.
   * @throws KernelError EFAULT when no handler is registered or the handler threw.
   */
  async raise(context: DeviceContext, va: number, access: DeviceAccess): Promise<void> {
    if (this.handler === undefined)
      throw new KernelError(
        'EFAULT',
        `${this.name}: ${access} fault at 0x${va.toString(16)} with no fault handler`,
      );
    const rec = this.#find(context, va, access) ?? this.#push(context, va, access);
    await this.#wq.waitEvent(() => rec.done);
    if (rec.error !== undefined)
      throw new KernelError(
        'EFAULT',
        `${this.name}: unrecoverable ${access} fault at 0x${va.toString(16)}: ${String(rec.error)}`,
      );
  }

  #find(context: DeviceContext, va: number, access: DeviceAccess): FaultRecord | undefined {
    for (const r of this.#pending)
      if (r.context === context && r.va === va && STRENGTH[r.access] >= STRENGTH[access]) return r;
    return undefined;
  }

  #push(context: DeviceContext, va: number, access: DeviceAccess): FaultRecord {
    const rec = new FaultRecord(context, va, access);
    this.#pending.push(rec);
    trace('device', 'fault', { device: this.name, client: context.clientId, va, access });
    if (!this.#worker) {
      this.#worker = true;
      spawn(`${this.name}-fault`, () => this.#drain());
    }
    return rec;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const rec = this.#pending[0]!;
      this.delivered++;
      try {
        await this.handler?.(rec);
      } catch (e) {
        rec.error = e;
      }
      this.#pending.shift();
      rec.done = true;
      this.#wq.wakeUpAll();
    }
    this.#worker = false;
  }
}
