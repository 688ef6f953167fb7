/**
 * One client of the device (a struct drm_file with its GPU VM; test_hmm's struct dmirror):
 * its device page table, its TLB, the process address space it mirrors, its command queues
 * and its busy time per engine.
 *
 * The DMA path itself (TLB -> page table -> fault -> stale check -> copy) is in dma-path.ts.
 *
 * Locking: the page table and TLB are written by the driver under its own update lock (the
 * one its invalidate callback takes) and read by DMA without a lock, as the hardware does.
 * A correct invalidate callback: take the lock, mmu_interval_set_seq(), unmap(), flushTlb(),
 * unlock, return true, all before the CPU changes its page table.
 */
import { type Mm, PAGE_SIZE, PG_ZONE_DEVICE, type PhysicalMemory } from '@hmmkit/mm';
import { KernelError, mightSleep, trace } from '@hmmkit/runtime';
import { CommandQueue } from './command-queue.js';
import { DEVICE_PTE_PERMS, DEVICE_PTE_READ, DEVICE_PTE_WRITE } from './constants.js';
import type { Device } from './device.js';
import { DevicePageTable, entryPerms, entryPfn } from './device-page-table.js';
import { DmaPath } from './dma-path.js';
import type { FaultQueue } from './fault-queue.js';
import type { Scheduler } from './scheduler.js';
import { type StaleAccess, StaleChecker } from './stale-check.js';
import { DeviceTlb } from './tlb.js';
import { checkAddr, checkBytes, checkInt, checkName, checkPageAddr, invalid } from './validate.js';

/** What the device reports on a stale access: throw (default), only record, or skip the check. */
export type StaleCheckMode = 'throw' | 'record' | 'off';

/** A device page-table entry as read back by {@link DeviceContext.entryAt}. */
export interface DevicePte {
  pfn: number;
  perms: number;
}

/** What {@link DeviceContext.tlbStats} reports. */
export interface DeviceTlbStats {
  entries: number;
  used: number;
  hits: number;
  misses: number;
  flushes: number;
}

/** The device-wide pieces a context uses (internal to the package). */
export interface DeviceShared {
  readonly name: string;
  readonly memory: PhysicalMemory;
  readonly scheduler: Scheduler;
  readonly faults: FaultQueue;
  readonly staleCheck: StaleCheckMode;
  readonly maxFaultRetries: number;
  readonly tlbEntries: number;
  readonly violations: StaleAccess[];
}

const MAX_DMA = 2 ** 30;
let lastClientId = 0;

/**
 * One client's device address space. Mirrors struct drm_file with its GPU VM (test_hmm's
 * struct dmirror). Created by Device.open().
 */
export class DeviceContext {
  /** drm-client-id: from one counter shared by every device, never reused (drm_file_alloc). */
  readonly clientId: string;
  #clientName: string | undefined;
  /** The device page table; programmed through map()/unmap() only. */
  readonly #pt = new DevicePageTable();
  /** The device TLB of this address space (one ASID / VMID / PASID). */
  readonly #tlb: DeviceTlb;
  /** Faults this client raised (each delivered or coalesced with one already queued). */
  faults = 0;
  /** Pages mapped from system RAM, from device memory. */
  #systemPages = 0;
  #devicePages = 0;
  readonly #path: DmaPath;
  readonly #checker: StaleChecker;
  readonly #scratch = new Uint8Array(4);
  #closed = false;

  readonly #shared: DeviceShared;

  constructor(
    /** The device this client was opened on. */
    readonly device: Device,
    shared: DeviceShared,
    /** The process address space this context mirrors (undefined: none, no CPU check). */
    readonly mm: Mm | undefined,
  ) {
    this.#shared = shared;
    this.clientId = String(++lastClientId);
    this.#tlb = new DeviceTlb(shared.tlbEntries);
    this.#checker = new StaleChecker(shared.memory, mm);
    this.#path = new DmaPath(this, shared, this.#pt, this.#tlb, this.#checker);
  }

  /** drm-client-name, if set. */
  get clientName(): string | undefined {
    return this.#clientName;
  }

  /**
   * Sets (or with undefined, clears) drm-client-name. Mirrors DRM_IOCTL_SET_CLIENT_NAME.
   * @throws KernelError EINVAL on a name with whitespace or ':' (the kernel refuses
   * non-printable and space characters too).
   */
  setClientName(name: string | undefined): void {
    this.assertOpen('DeviceContext.setClientName');
    this.#clientName =
      name === undefined ? undefined : checkName('DeviceContext.setClientName', 'name', name);
  }

  /** Number of valid entries in the device page table. */
  get mappedPages(): number {
    return this.#pt.size;
  }

  /** TLB statistics: slots, slots in use, hits, misses (page-table walks) and flushes. */
  get tlbStats(): DeviceTlbStats {
    const t = this.#tlb;
    return { entries: t.entries, used: t.used, hits: t.hits, misses: t.misses, flushes: t.flushes };
  }

  /** Whether close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws EINVAL when the client is closed (every entry point calls it). */
  assertOpen(fn: string): void {
    if (this.#closed) throw new KernelError('EINVAL', `${fn}: client ${this.clientId} is closed`);
  }

  // ---- page table, driver side ---------------------------------------------------------

  /**
   * Programs the device PTE for page `va`: `pfn` with `perms` (READ required). Does not touch
   * the TLB: after changing or removing a translation the driver flushes.
   * Mirrors a driver's PTE update (dmirror_do_fault's xa_store, amdgpu_vm_update_range).
   * **Locking**: the driver's update lock; never sleeps.
   * @throws KernelError EINVAL on an unaligned va, an unknown pfn, or perms outside
   * DEVICE_PTE_PERMS or without DEVICE_PTE_READ.
   */
  map(va: number, pfn: number, perms: number): void {
    const fn = 'DeviceContext.map';
    this.assertOpen(fn);
    checkPageAddr(fn, 'va', va);
    if (typeof pfn !== 'number' || !this.#shared.memory.validPfn(pfn))
      throw invalid(fn, 'pfn', 'a pfn of this memory', pfn);
    checkInt(fn, 'perms', perms, 1, DEVICE_PTE_PERMS);
    if (!(perms & DEVICE_PTE_READ))
      throw invalid(fn, 'perms', 'a mask with DEVICE_PTE_READ', perms);
    const old = this.#pt.set(va / PAGE_SIZE, pfn, perms);
    if (old !== 0) this.#account(entryPfn(old), -1);
    this.#account(pfn, 1);
  }

  /**
   * Clears the device PTEs of the pages in [start, end); returns how many were set. `start`
   * is page aligned; `end` may be any integer up to 2^53 - 1 so a notifier range (the
   * release pass ends at Number.MAX_SAFE_INTEGER) can be passed as is; a partial last page
   * is covered. The TLB keeps what it cached until flushTlb().
   * Mirrors dmirror_do_update's xa_erase loop / amdgpu_vm_update_range(unmap).
   * **Locking**: the driver's update lock; never sleeps; may run from an invalidate callback.
   * @throws KernelError EINVAL on unaligned or inverted bounds.
   */
  unmap(start: number, end: number): number {
    const fn = 'DeviceContext.unmap';
    const endVpn = this.#checkRange(fn, start, end);
    return this.#pt.clear(start / PAGE_SIZE, endVpn, this.#onClear);
  }

  /**
   * Flushes the TLB for the pages in [start, end) (bounds as unmap()). Mirrors a driver's TLB
   * invalidation (amdgpu_gmc_flush_gpu_tlb, nvkm_vmm_flush, iommu flush for a PASID).
   * **Locking**: the driver's update lock; never sleeps; may run from an invalidate callback.
   * @throws KernelError EINVAL on unaligned or inverted bounds.
   */
  flushTlb(start: number, end: number): void {
    const fn = 'DeviceContext.flushTlb';
    const endVpn = this.#checkRange(fn, start, end);
    this.#tlb.flushRange(start / PAGE_SIZE, endVpn);
    trace('device', 'tlb-flush', { device: this.#shared.name, client: this.clientId, start, end });
  }

  /** Flushes the whole TLB of this client. Same contract as flushTlb(). */
  flushTlbAll(): void {
    this.assertOpen('DeviceContext.flushTlbAll');
    this.#tlb.flushAll();
    trace('device', 'tlb-flush', { device: this.#shared.name, client: this.clientId });
  }

  /**
   * The page-table entry for page `va` (not the TLB's), or undefined.
   * @throws KernelError EINVAL on a bad address.
   */
  entryAt(va: number): DevicePte | undefined {
    const e = this.#pt.get(Math.floor(checkAddr('DeviceContext.entryAt', 'va', va) / PAGE_SIZE));
    return e === 0 ? undefined : { pfn: entryPfn(e), perms: entryPerms(e) };
  }

  // ---- DMA, device side ----------------------------------------------------------------

  /**
   * The device reads `length` bytes at `va` through its translations, faulting to the driver
   * where it must. Takes no virtual time (a job's ops do).
   * **Context**: may sleep (faults), so never under a spinlock nor from a non-blockable
   * invalidation (might_sleep()).
   * @throws KernelError EINVAL on bad arguments or a closed client; EFAULT on an
   * unrecoverable fault; StaleTranslationError when the translation used is stale.
   * @example
   * const bytes = await ctx.dmaRead(addr, 4096);
   */
  async dmaRead(va: number, length: number): Promise<Uint8Array> {
    const fn = 'DeviceContext.dmaRead';
    this.assertOpen(fn);
    mightSleep(fn);
    checkAddr(fn, 'va', va);
    checkInt(fn, 'length', length, 0, MAX_DMA);
    const out = new Uint8Array(length);
    await this.#path.run(va, out, 0, length, DEVICE_PTE_READ);
    return out;
  }

  /**
   * The device reads `dst.length` bytes at `va` into `dst` (a driver's bounce buffer).
   * Same contract as dmaRead().
   * @throws KernelError EINVAL, EFAULT; StaleTranslationError.
   */
  async dmaReadInto(va: number, dst: Uint8Array): Promise<void> {
    const fn = 'DeviceContext.dmaReadInto';
    this.assertOpen(fn);
    mightSleep(fn);
    checkAddr(fn, 'va', va);
    checkBytes(fn, 'dst', dst);
    await this.#path.run(va, dst, 0, dst.length, DEVICE_PTE_READ);
  }

  /**
   * The device writes `data` at `va` through its translations. Same contract as dmaRead().
   * @throws KernelError EINVAL, EFAULT; StaleTranslationError.
   */
  async dmaWrite(va: number, data: Uint8Array): Promise<void> {
    const fn = 'DeviceContext.dmaWrite';
    this.assertOpen(fn);
    mightSleep(fn);
    checkAddr(fn, 'va', va);
    checkBytes(fn, 'data', data);
    await this.#path.run(va, data, 0, data.length, DEVICE_PTE_READ | DEVICE_PTE_WRITE);
  }

  /**
   * Device atomic fetch-and-add on the little-endian u32 at `va` (4-byte aligned); needs
   * DEVICE_PTE_ATOMIC (device-exclusive or device memory). Returns the old value.
   * @throws KernelError EINVAL (misaligned), EFAULT; StaleTranslationError.
   */
  async dmaAtomicAdd(va: number, addend: number): Promise<number> {
    const fn = 'DeviceContext.dmaAtomicAdd';
    this.assertOpen(fn);
    mightSleep(fn);
    checkAddr(fn, 'va', va);
    if (va % 4 !== 0) throw invalid(fn, 'va', '4-byte aligned', va);
    checkInt(fn, 'addend', addend, 0, 0xffffffff);
    const pfn = await this.#path.translateOrFault(Math.floor(va / PAGE_SIZE), DEVICE_PTE_PERMS);
    const off = va % PAGE_SIZE;
    const mem = this.#shared.memory;
    mem.readPage(pfn, off, this.#scratch, 0, 4);
    const view = new DataView(this.#scratch.buffer);
    const old = view.getUint32(0, true);
    view.setUint32(0, (old + addend) >>> 0, true);
    mem.writePage(pfn, off, this.#scratch, 0, 4);
    return old;
  }

  // ---- queues, accounting, teardown ------------------------------------------------------

  /**
   * Creates an in-order command queue on engine class `engine`. Mirrors a context's
   * scheduler entity (drm_sched_entity_init, amdgpu_ctx_init_entity).
   * @throws KernelError EINVAL on an unknown engine or a closed client.
   */
  createQueue(engine: string): CommandQueue {
    const fn = 'DeviceContext.createQueue';
    this.assertOpen(fn);
    checkName(fn, 'engine', engine);
    const e = this.#shared.scheduler.engineIndex(engine);
    if (e < 0) throw invalid(fn, 'engine', 'an engine of this device', engine);
    return new CommandQueue(this, engine, this.#shared.scheduler, e, (ops) =>
      this.#path.runOps(ops),
    );
  }

  /**
   * Engine time this client has used on engine class `engine`, in virtual ns up to now
   * (drm-engine-<engine>): monotonic; a running job counts up to now.
   * @throws KernelError EINVAL on an unknown engine.
   */
  busyNs(engine: string): number {
    const e = this.#shared.scheduler.engineIndex(engine);
    if (e < 0) throw invalid('DeviceContext.busyNs', 'engine', 'an engine of this device', engine);
    return this.#shared.scheduler.busyNs(this, e);
  }

  /**
   * Every translation this client holds (page table and TLB) that the CPU no longer backs:
   * one line each; empty when ARCHITECTURE.md's device invariants hold. Checkable at any
   * point where no invalidation is in progress.
   */
  audit(): string[] {
    const pt: Array<[number, number]> = [];
    const tlb: Array<[number, number]> = [];
    this.#pt.forEach((vpn, e) => {
      pt.push([vpn, e]);
    });
    this.#tlb.forEach((vpn, e) => {
      tlb.push([vpn, e]);
    });
    const where = `${this.#shared.name} client ${this.clientId}`;
    return [
      ...this.#checker.audit(`${where} page table`, pt),
      ...this.#checker.audit(`${where} TLB`, tlb),
    ];
  }

  /** Bytes of system RAM and of device memory mapped in the device page table. */
  get residentBytes(): { system: number; vram: number } {
    return { system: this.#systemPages * PAGE_SIZE, vram: this.#devicePages * PAGE_SIZE };
  }

  /**
   * Closes the client: lets the device finish this client's jobs, then drops every
   * translation and flushes the TLB. Mirrors drm_release → postclose (amdgpu_vm_fini,
   * dmirror_fops_release). Idempotent errors: a second close throws EINVAL.
   * **Context**: may sleep.
   */
  async close(): Promise<void> {
    this.assertOpen('DeviceContext.close');
    await this.#shared.scheduler.runUntil(this.#shared.scheduler.lastEnd(this));
    this.#closed = true;
    this.#pt.clear(0, Number.MAX_SAFE_INTEGER, this.#onClear);
    this.#tlb.flushAll();
  }

  readonly #onClear = (_vpn: number, entry: number): void => this.#account(entryPfn(entry), -1);

  #account(pfn: number, delta: number): void {
    if (this.#shared.memory.flags[pfn]! & PG_ZONE_DEVICE) this.#devicePages += delta;
    else this.#systemPages += delta;
  }

  /** Validates [start, end) and returns the end as a page number, rounded up. */
  #checkRange(fn: string, start: number, end: number): number {
    this.assertOpen(fn);
    checkPageAddr(fn, 'start', start);
    checkInt(fn, 'end', end, 0, Number.MAX_SAFE_INTEGER);
    if (end < start) throw invalid(fn, 'end', `>= start (${start})`, end);
    return Math.ceil(end / PAGE_SIZE);
  }
}
