import type { IntervalNode } from '@hmmkit/interval-tree';
import { KernelError } from '@hmmkit/runtime';
import { itreeReadBegin } from './itree-read.js';
import { itreeRemove } from './itree-remove.js';
import type { MmuIntervalNotifierOps } from './ops.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

function checkSeq(name: string, seq: unknown): asserts seq is number {
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) {
    throw new KernelError(
      'EINVAL',
      `${name} must be a sequence number from readBegin(), got ${String(seq)}`,
    );
  }
}

/**
 * One driver's subscription to the closed address interval `[start, last]` of an address space,
 * created by `insertInterval()`. Mirrors struct mmu_interval_notifier.
 *
 * The driver pattern it exists for (Documentation/mm/hmm.rst):
 * ```ts
 * for (;;) {
 *   const seq = await sub.readBegin();
 *   const pfns = await faultCpuPages();           // may sleep, may race with invalidations
 *   await driverLock.lock();
 *   if (sub.readRetry(seq)) { driverLock.unlock(); continue; }
 *   programDevice(pfns);                          // safe: no invalidation since readBegin
 *   driverLock.unlock();
 *   break;
 * }
 * ```
 */
export class MmuIntervalNotifier {
  /** First address covered. */
  readonly start: number;
  /** Last address covered (inclusive): `start + length - 1`. */
  readonly last: number;
  /** The address space (`subs.mm`). */
  readonly mm: unknown;
  readonly ops: MmuIntervalNotifierOps;
  /** @internal the per-mm subscriptions this belongs to. */
  readonly subs: MmuNotifierSubscriptions;
  /**
   * @internal interval_sub->invalidate_seq. Always odd. Written by setSeq() under the driver's
   * lock (pairs with readRetry() under the same lock) and by insert under `subs.lock`; read
   * locklessly by checkRetry() and under `subs.lock` by readBegin().
   */
  invalidateSeq = 0;
  /** @internal our tree node; undefined = RB_EMPTY_NODE (never inserted, or removed). Guarded by `subs.lock`. */
  node: IntervalNode<MmuIntervalNotifier> | undefined = undefined;
  /** @internal deferred_item links (hlist, head insertion). Guarded by `subs.lock`. */
  deferredNext: MmuIntervalNotifier | undefined = undefined;
  /** @internal */
  deferredPrev: MmuIntervalNotifier | undefined = undefined;
  /** @internal set once remove() has begun; a later callback would be a use-after-free. */
  removed = false;
  /** @internal readBegin()'s settled promise for `settledSeq` (the uncontended path allocates nothing). */
  settled: Promise<number> | undefined = undefined;
  /** @internal */
  settledSeq = -1;

  /** Not for direct use: subscriptions are created by `MmuNotifierSubscriptions.insertInterval()`. */
  constructor(
    subs: MmuNotifierSubscriptions,
    start: number,
    last: number,
    ops: MmuIntervalNotifierOps,
  ) {
    this.subs = subs;
    this.mm = subs.mm;
    this.start = start;
    this.last = last;
    this.ops = ops;
  }

  /**
   * Begins a read-side critical section: returns the sequence number to give to `readRetry()`.
   * Mirrors mmu_interval_read_begin().
   *
   * **Details**: sleeps only while this subscription is being invalidated right now (its
   * sequence equals the global one), until the last running invalidation ends; returns the
   * value read before sleeping, so `readRetry()` may already be true. Never loops, so the
   * caller can bound its own retries.
   *
   * **Locking / Context**: may sleep; the caller must not hold a lock that an invalidation
   * callback takes (lockdep reports it through the `mmu_notifier_invalidate_range_start` map).
   * Must not be called from an invalidation callback.
   */
  readBegin(): Promise<number> {
    return itreeReadBegin(this);
  }

  /**
   * True if an invalidation collided with the section begun by `readBegin()`: retry.
   * Mirrors mmu_interval_read_retry().
   *
   * **Locking**: call under the driver's own lock, the one the invalidate callback holds while
   * it calls `setSeq()`; then `false` is reliable until that lock is dropped.
   * @throws KernelError EINVAL when `seq` is not a sequence number.
   */
  readRetry(seq: number): boolean {
    checkSeq('seq', seq);
    return this.invalidateSeq !== seq;
  }

  /**
   * Lock-free hint that an invalidation collided: `true` is reliable, `false` is not.
   * Mirrors mmu_interval_check_retry() (hmm_range_fault() polls it).
   *
   * **Context**: any; no lock needed.
   * @throws KernelError EINVAL when `seq` is not a sequence number.
   */
  checkRetry(seq: number): boolean {
    checkSeq('seq', seq);
    return this.invalidateSeq !== seq;
  }

  /**
   * Records the `curSeq` an invalidate callback received, so readers collide.
   * Mirrors mmu_interval_set_seq().
   *
   * **Locking / Context**: call unconditionally from `ops.invalidate`, under the lock used
   * around `readRetry()`. Never sleeps.
   * @throws KernelError EINVAL when `curSeq` is not an odd sequence number (the kernel's
   *   cur_seq is always odd).
   */
  setSeq(curSeq: number): void {
    checkSeq('curSeq', curSeq);
    if (curSeq % 2 === 0) {
      throw new KernelError(
        'EINVAL',
        `curSeq must be the odd value passed to invalidate(), got ${curSeq}`,
      );
    }
    this.invalidateSeq = curSeq;
  }

  /**
   * Unsubscribes; on return no callback runs on this subscription and none will again.
   * Mirrors mmu_interval_notifier_remove().
   *
   * **Details**: immediate when no invalidation holds the tree; a subscription still waiting
   * for a deferred insert is simply dropped; otherwise the removal is deferred to the end of
   * the running invalidations and this waits for it.
   *
   * **Locking / Context**: may sleep; must not be called from a callback, nor with a lock
   * that a callback takes. Drops the mm reference taken by insert.
   * @throws KernelError EINVAL when called twice.
   */
  async remove(): Promise<void> {
    if (this.removed) throw new KernelError('EINVAL', 'interval notifier already removed');
    await itreeRemove(this);
  }
}
