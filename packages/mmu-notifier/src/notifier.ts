import { classicPut, classicUnregister } from './classic-register.js';
import type { MmuNotifierOps } from './ops.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

/**
 * A classic subscriber of one address space: told about every invalidation, whatever its
 * range. Mirrors struct mmu_notifier. Create it with `register(ops)`, or return one (or a
 * subclass carrying the driver's state) from `ops.allocNotifier` for `get()`.
 *
 * @example
 * class Tlb extends MmuNotifier { flushes = 0; }
 * const ops: MmuNotifierOps = {
 *   allocNotifier: () => new Tlb(ops),
 *   freeNotifier: () => {},
 *   archInvalidateSecondaryTlbs: (sub) => { (sub as Tlb).flushes++; },
 * };
 * const tlb = await subs.get(ops);
 */
export class MmuNotifier {
  /** The callbacks; set by register()/get(). */
  readonly ops: MmuNotifierOps;
  /** The address space, once registered (undefined before). */
  readonly mm: unknown = undefined;
  /** @internal the subscriptions it is registered with. */
  subs: MmuNotifierSubscriptions | undefined = undefined;
  /** @internal hlist links; `hnext` survives unlink so an SRCU walk standing here continues. */
  hnext: MmuNotifier | undefined = undefined;
  /** @internal */
  hprev: MmuNotifier | undefined = undefined;
  /** @internal !hlist_unhashed(): on the list. Guarded by `subs.lock`. */
  hashed = false;
  /** @internal the get()/put() reference count (`users`). Guarded by `subs.lock`. */
  users = 0;
  /** @internal the mm reference was dropped (unregister or the final put's free). */
  dropped = false;

  constructor(ops: MmuNotifierOps = {}) {
    this.ops = ops;
  }

  /**
   * Unsubscribes; on return no callback runs and none will. Calls `release` first if the
   * address space has not released this notifier yet. Mirrors mmu_notifier_unregister().
   *
   * **Locking / Context**: may sleep (waits for a grace period so running callbacks,
   * including a concurrent exit's `release`, have returned). Drops the mm reference.
   * @throws KernelError EINVAL when not registered or already unregistered/put.
   */
  unregister(): Promise<void> {
    return classicUnregister(this);
  }

  /**
   * Drops the reference taken by get()/register(); the last one unlinks the notifier and
   * frees it with `ops.freeNotifier` after a grace period. `release` is not called.
   * Mirrors mmu_notifier_put().
   *
   * **Locking / Context**: never sleeps; may be called from `release`. The driver must have
   * stopped using its secondary mappings first.
   * @throws KernelError EINVAL when there is no reference left to drop.
   */
  put(): void {
    classicPut(this);
  }
}
