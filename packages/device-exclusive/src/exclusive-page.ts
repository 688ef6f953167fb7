/**
 * The page handed back by makeDeviceExclusive(): the kernel returns `struct page *` with the
 * folio locked and referenced, and the driver later calls folio_unlock() and folio_put().
 *
 * Locking: while the handle is locked, no CPU fault can revoke the exclusive entry (the
 * restore path sleeps on the same page lock), so the driver programs its atomic mapping in
 * that window, under its own device lock, and checks its notifier sequence first.
 */
import type { Mm } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';

/**
 * A page made device-exclusive, locked and referenced until unlock() and put().
 * Mirrors the `struct page *` / `struct folio **foliop` pair returned by
 * make_device_exclusive().
 *
 * **Gotchas**: each of unlock() and put() runs exactly once; a second call throws EINVAL.
 */
export class DeviceExclusivePage {
  private isLocked = true;
  private isReferenced = true;

  constructor(
    /** The address space whose entry was converted. */
    readonly mm: Mm,
    /** Page-aligned address of the converted entry. */
    readonly address: number,
    /** Frame of the page (page_to_pfn()); the device accesses the page through it. */
    readonly pfn: number,
  ) {}

  /** Whether the page lock is still held through this handle. */
  get locked(): boolean {
    return this.isLocked;
  }

  /** Whether the reference is still held through this handle. */
  get referenced(): boolean {
    return this.isReferenced;
  }

  /**
   * Drops the page lock (folio_unlock()); from now on a CPU access may revoke exclusivity.
   * **Context**: never sleeps; may run under a spinlock.
   * @throws KernelError EINVAL when already unlocked.
   */
  unlock(): void {
    if (!this.isLocked)
      throw new KernelError('EINVAL', `page at ${this.address} (pfn ${this.pfn}) already unlocked`);
    this.isLocked = false;
    this.mm.memory.unlockPage(this.pfn);
  }

  /**
   * Drops the reference (folio_put()).
   * **Context**: never sleeps.
   * @throws KernelError EINVAL when already put.
   */
  put(): void {
    if (!this.isReferenced)
      throw new KernelError('EINVAL', `page at ${this.address} (pfn ${this.pfn}) already put`);
    this.isReferenced = false;
    this.mm.memory.putPage(this.pfn);
  }
}
