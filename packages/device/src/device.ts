/**
 * The simulated device: engines on a virtual clock, a fault queue to its driver, clients
 * with their own page table and TLB, and the stale-translation checker. See context.ts for
 * the DMA path and scheduler.ts for time.
 */
import { type DrmFdinfo, formatFdinfo } from '@hmmkit/fdinfo';
import { Mm, PAGE_SIZE, type PhysicalMemory } from '@hmmkit/mm';

import { DeviceContext, type DeviceShared, type StaleCheckMode } from './context.js';
import { type DeviceFaultHandler, FaultQueue } from './fault-queue.js';
import { clientFdinfo } from './fdinfo.js';
import {
  checkPoolOptions,
  DeviceMemoryPool,
  type DeviceMemoryPoolOptions,
  ownPool,
} from './memory-pool.js';
import { Scheduler } from './scheduler.js';
import type { StaleAccess } from './stale-check.js';
import { checkInt, checkName, invalid } from './validate.js';

/** Options of {@link Device}. */
export interface DeviceOptions {
  /** drm-driver name (default 'hmmkit'). */
  name?: string;
  /** drm-pdev, `aaaa:bb:cc.d` (default none, as for a platform device). */
  pdev?: string;
  /** Engine classes and their instance counts (default `{ gfx: 1, compute: 1, copy: 1 }`). */
  engines?: Record<string, number>;
  /** TLB slots per client, a power of two in [1, 65536] (default 64). */
  tlbEntries?: number;
  /** Stale-translation check: 'throw' (default), 'record' (only in `violations`) or 'off'. */
  staleCheck?: StaleCheckMode;
  /** Replays of one access before it fails with EFAULT (default 16). */
  maxFaultRetries?: number;
}

const DEFAULT_ENGINES = { gfx: 1, compute: 1, copy: 1 };

/**
 * A device on the system bus that DMAs into `memory` through per-client translations.
 * Mirrors the hardware side of a GPU or a mirror device (test_hmm's dmirror_device).
 *
 * @example
 * const device = new Device(memory, { name: 'mygpu', engines: { gfx: 1, copy: 2 } });
 * device.setFaultHandler(async (f) => driver.fault(f));
 * const ctx = device.open(mm);
 * const bytes = await ctx.dmaRead(addr, 4096);
 */
export class Device {
  readonly name: string;
  readonly pdev: string | undefined;
  readonly staleCheck: StaleCheckMode;
  readonly maxFaultRetries: number;
  readonly tlbEntries: number;
  /** Every stale access found (also thrown in 'throw' mode). */
  readonly violations: StaleAccess[] = [];
  readonly #scheduler: Scheduler;
  readonly #faults: FaultQueue;
  /** What the clients share with the device (internal). */
  readonly #shared: DeviceShared;
  readonly #clients = new Set<DeviceContext>();
  /** Memory pools owned by the device (createPool / removePool; never touched by DMA). */
  readonly #pools: DeviceMemoryPool[] = [];
  /** Pool pages charged per client; changed by pool allocPage() and page_free only. */
  readonly #vramPages = new Map<DeviceContext, number>();
  /** Whether vram in fdinfo comes from the pools (set by the first createPool()). */
  #poolAccounting = false;

  /**
   * Creates the device. **Context**: never sleeps.
   * @throws KernelError EINVAL on a bad memory or option (named with its value).
   */
  constructor(
    readonly memory: PhysicalMemory,
    opts: DeviceOptions = {},
  ) {
    const fn = 'Device';
    if (typeof memory !== 'object' || memory === null || !('validPfn' in memory))
      throw invalid(fn, 'memory', 'a PhysicalMemory', memory);
    if (typeof opts !== 'object' || opts === null) throw invalid(fn, 'opts', 'an object', opts);
    this.name = checkName(fn, 'opts.name', opts.name ?? 'hmmkit');
    this.pdev = checkPdev(opts.pdev);
    this.staleCheck = checkMode(opts.staleCheck ?? 'throw');
    this.maxFaultRetries = checkInt(
      fn,
      'opts.maxFaultRetries',
      opts.maxFaultRetries ?? 16,
      1,
      1 << 20,
    );
    this.tlbEntries = checkTlb(opts.tlbEntries ?? 64);
    this.#scheduler = new Scheduler(this.name, checkEngines(opts.engines ?? DEFAULT_ENGINES));
    this.#faults = new FaultQueue(this.name);
    this.#shared = {
      name: this.name,
      memory,
      scheduler: this.#scheduler,
      faults: this.#faults,
      staleCheck: this.staleCheck,
      maxFaultRetries: this.maxFaultRetries,
      tlbEntries: this.tlbEntries,
      violations: this.violations,
    };
  }

  /** The device's virtual time in ns. */
  get now(): number {
    return this.#scheduler.now;
  }

  /** Engine class names with their instance counts. */
  get engines(): ReadonlyArray<{ name: string; capacity: number }> {
    return this.#scheduler.engines.map((e) => ({ name: e.name, capacity: e.capacity }));
  }

  /** Open clients (a client closed with its own close() leaves the set here). */
  get clients(): ReadonlySet<DeviceContext> {
    for (const c of this.#clients) if (c.closed) this.#clients.delete(c);
    return this.#clients;
  }

  /**
   * Registers (or with undefined, removes) the driver's fault handler. Mirrors requesting the
   * fault interrupt / fault-buffer notifier (nouveau_svm_init, amdgpu_ih ring setup).
   * @throws KernelError EINVAL when `handler` is not a function or undefined.
   */
  setFaultHandler(handler: DeviceFaultHandler | undefined): void {
    if (handler !== undefined && typeof handler !== 'function')
      throw invalid('Device.setFaultHandler', 'handler', 'a function or undefined', handler);
    this.#faults.handler = handler;
  }

  /** Faults delivered to the handler so far (duplicates coalesced). */
  get faultsDelivered(): number {
    return this.#faults.delivered;
  }

  /**
   * Opens a client mirroring `mm` (or none). Mirrors drm_open() → drm_file_alloc() (new
   * drm-client-id) + the driver's open (amdgpu_driver_open_kms, dmirror_fops_open).
   * The driver registers its interval notifier on `mm` itself.
   * **Context**: never sleeps.
   * @throws KernelError EINVAL on a bad mm or clientName.
   */
  open(mm?: Mm, opts: { clientName?: string } = {}): DeviceContext {
    const fn = 'Device.open';
    if (mm !== undefined && !(mm instanceof Mm)) throw invalid(fn, 'mm', 'an Mm or undefined', mm);
    if (mm !== undefined && mm.memory !== this.memory)
      throw invalid(fn, 'mm', "an Mm of the device's memory", mm);
    if (typeof opts !== 'object' || opts === null) throw invalid(fn, 'opts', 'an object', opts);
    const ctx = new DeviceContext(this, this.#shared, mm);
    if (opts.clientName !== undefined)
      ctx.setClientName(checkName(fn, 'opts.clientName', opts.clientName));
    this.#clients.add(ctx);
    return ctx;
  }

  /**
   * Closes a client (see DeviceContext.close) and forgets it.
   * @throws KernelError EINVAL when `ctx` is not an open client of this device.
   */
  async close(ctx: DeviceContext): Promise<void> {
    if (!this.#clients.has(ctx))
      throw invalid('Device.close', 'ctx', 'an open client of this device', ctx);
    this.#clients.delete(ctx);
    await ctx.close();
  }

  /**
   * Lets the device run until virtual time `t` ns: jobs start (their DMA runs) and retire
   * in time order. **Context**: may sleep.
   * @throws KernelError EINVAL when `t` is not a safe integer >= 0.
   */
  runUntil(t: number): Promise<void> {
    checkInt('Device.runUntil', 't', t, 0, Number.MAX_SAFE_INTEGER);
    return this.#scheduler.runUntil(t);
  }

  /** Lets the device run for `ns` more ns. Same contract as runUntil(). */
  advance(ns: number): Promise<void> {
    checkInt('Device.advance', 'ns', ns, 0, Number.MAX_SAFE_INTEGER);
    return this.#scheduler.runUntil(this.#scheduler.now + ns);
  }

  /**
   * Runs until every submitted job has retired, including jobs submitted meanwhile (by a
   * fault handler, say). **Context**: may sleep.
   */
  async idle(): Promise<void> {
    do await this.#scheduler.runUntil(this.#scheduler.horizon);
    while (this.#scheduler.pending > 0);
  }

  /**
   * Checks ARCHITECTURE.md's device invariants now: no open client holds a translation (in
   * its page table or TLB) for a page its process no longer maps there, maps read-only
   * while the entry is writable, or has freed. Returns one line per broken translation.
   * **Context**: never sleeps; meaningful where no invalidation is in progress.
   * @example
   * await mm.munmap(addr, len);
   * expect(device.checkInvariants()).toEqual([]);
   */
  checkInvariants(): string[] {
    return [...this.clients].flatMap((c) => c.audit());
  }

  /**
   * Throws an Error listing every broken device invariant (see checkInvariants()). For tests.
   */
  assertInvariants(): void {
    const errors = this.checkInvariants();
    if (errors.length > 0)
      throw new Error(`device invariants broken:\n${errors.slice(0, 20).join('\n')}`);
  }

  /**
   * Registers `opts.nrPages` pages of device memory as a pool of this device, through
   * @hmmkit/hmm's DevicePagePool (memremap_pages with the device as pgmap owner unless
   * `opts.owner` says otherwise). From the first pool on, a client's fdinfo vram is the
   * pool pages charged to it (`pool.allocPage(ctx)`), instead of the device pages it maps.
   * Mirrors a driver's probe-time devm_memremap_pages() (dmirror_device_init,
   * nouveau_dmem_init, kgd2kfd_init_zone_device).
   *
   * **Context**: never sleeps.
   * @throws KernelError EINVAL for a bad type, nrPages, owner or migrateToRam (named).
   * @example
   * const vram = device.createPool({ type: 'private', nrPages: 256 });
   * const dpage = vram.allocPage(ctx); // a migrate_vma destination, charged to ctx
   */
  createPool(opts: DeviceMemoryPoolOptions): DeviceMemoryPool {
    const o = checkPoolOptions(opts);
    const pool = new DeviceMemoryPool(this, this.memory, o, (ctx, n) => this.#charge(ctx, n));
    this.#pools.push(pool);
    this.#poolAccounting = true;
    return pool;
  }

  /** The device's memory pools, in creation order (removed ones are gone). */
  get pools(): readonly DeviceMemoryPool[] {
    return this.#pools;
  }

  /**
   * Evicts every page of `pool` still in use to system RAM, then unregisters it, sleeping
   * until its last page is freed. Mirrors dmirror_device_remove_chunks() (evict, then
   * memunmap_pages()) at device removal.
   *
   * **Locking**: no lock held; sleeps (a CPU fault on one of the pages may finish first).
   * @throws KernelError EINVAL when `pool` is not a pool of this device; EBUSY while another
   * removal of it runs; ENOMEM when RAM ran out (the pool stays, with what did not move).
   */
  async removePool(pool: DeviceMemoryPool): Promise<void> {
    const p = ownPool('Device.removePool', this.#pools, pool);
    await p.pool.remove();
    this.#pools.splice(this.#pools.indexOf(p), 1);
  }

  #charge(ctx: DeviceContext, pages: number): void {
    const n = (this.#vramPages.get(ctx) ?? 0) + pages;
    if (n === 0) this.#vramPages.delete(ctx);
    else this.#vramPages.set(ctx, n);
  }

  /**
   * The usage of `ctx` as a DrmFdinfo. Mirrors drm_show_fdinfo() with the driver's
   * show_fdinfo (busy ns per engine, memory per region: `vram` from the pools once the
   * device has one, else the device pages the client maps).
   * @throws KernelError EINVAL when `ctx` is not a client of this device.
   */
  fdinfo(ctx: DeviceContext): DrmFdinfo {
    if (!(ctx instanceof DeviceContext) || ctx.device !== this)
      throw invalid('Device.fdinfo', 'ctx', 'a client of this device', ctx);
    const vram = this.#poolAccounting ? (this.#vramPages.get(ctx) ?? 0) * PAGE_SIZE : undefined;
    return clientFdinfo(ctx, this.name, this.pdev, this.engines, vram);
  }

  /** The text of /proc/<pid>/fdinfo/<fd> for `ctx` (the drm-* lines). Same contract as fdinfo(). */
  showFdinfo(ctx: DeviceContext): string {
    return formatFdinfo(this.fdinfo(ctx));
  }
}

function checkPdev(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(v))
    throw invalid('Device', 'opts.pdev', "a PCI address 'aaaa:bb:cc.d'", v);
  return v;
}

function checkMode(v: unknown): StaleCheckMode {
  if (v !== 'throw' && v !== 'record' && v !== 'off')
    throw invalid('Device', 'opts.staleCheck', "'throw', 'record' or 'off'", v);
  return v;
}

function checkTlb(v: unknown): number {
  const n = checkInt('Device', 'opts.tlbEntries', v, 1, 65536);
  if ((n & (n - 1)) !== 0) throw invalid('Device', 'opts.tlbEntries', 'a power of two', v);
  return n;
}

function checkEngines(v: unknown): Array<[string, number]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid('Device', 'opts.engines', 'an object of engine name -> instance count', v);
  const list = Object.entries(v).map(([name, n]): [string, number] => [
    checkName('Device', 'opts.engines key', name),
    checkInt('Device', `opts.engines.${name}`, n, 1, 64),
  ]);
  if (list.length === 0) throw invalid('Device', 'opts.engines', 'non-empty', v);
  for (const [name] of list)
    if (name.startsWith('capacity-'))
      throw invalid('Device', 'opts.engines key', "a name not starting with 'capacity-'", name);
  return list;
}
