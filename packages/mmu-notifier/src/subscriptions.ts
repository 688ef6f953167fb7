import { IntervalTree } from '@hmmkit/interval-tree';
import { KernelError, LockdepMap, RwSemaphore, SpinLock, Srcu, WaitQueue } from '@hmmkit/runtime';
import {
  classicGet,
  classicGetLocked,
  classicRegister,
  classicRegisterLocked,
} from './classic-register.js';
import {
  classicArchInvalidateSecondaryTlbs,
  classicClearFlushYoung,
  classicClearYoung,
  classicTestYoung,
} from './classic-young.js';
import { checkAddress, checkHalfOpen, checkRange, type MmuNotifierRange } from './event.js';
import type { MmuIntervalNotifier } from './interval-notifier.js';
import {
  invalidateEnd,
  invalidateStartBlockable,
  invalidateStartNonblock,
} from './invalidate-range.js';
import { itreeInsert, itreeInsertLocked } from './itree-insert.js';
import type { MmuNotifier } from './notifier.js';
import type { MmuIntervalNotifierOps, MmuNotifierMm, MmuNotifierOps } from './ops.js';
import { notifierRelease } from './release.js';
import { violation } from './violation.js';

/**
 * The notifier state of one address space: the classic subscribers and the interval tree with
 * its collision-retry sequence. Mirrors struct mmu_notifier_subscriptions (mm/mmu_notifier.c);
 * usable on its own: `new MmuNotifierSubscriptions()` is a standalone address space.
 *
 * **Details**: the kernel allocates this on the first registration; here it exists from the
 * start, with the interval tree switched on (`hasItree`) by the first insertInterval().
 *
 * @example
 * const subs = new MmuNotifierSubscriptions();
 * const sub = await subs.insertInterval(0x10000, 0x4000, {
 *   invalidate(s, range, curSeq) { s.setSeq(curSeq); return true; },
 * });
 * const range = mmuNotifierRangeInit(MmuNotifierEvent.UNMAP, 0, subs.mm, 0x10000, 0x11000);
 * await subs.invalidateRangeStart(range);
 * await subs.invalidateRangeEnd(range);
 */
export class MmuNotifierSubscriptions implements MmuNotifierMm {
  /** The address space every range and subscription refers to: the mm given, or `this`. */
  readonly mm: unknown;
  /** mmap_lock of the address space (the given mm's, or a standalone one). */
  readonly mmapLock: RwSemaphore;

  // ---- State and the lock that guards it (the kernel's layout) ----------------------------
  //
  // `lock` (spinlock) guards:  seq, active, the shape of `itree`, `deferredHead` and every
  //                            sub.deferred{Next,Prev}/sub.node, each classic sub's hlist
  //                            links and `users`.
  // `itree` may change only while seq is even (not frozen); while seq is odd an invalidation
  //                            is walking it without the lock, so insert/remove go through
  //                            the deferred list, applied by the last invalidateRangeEnd().
  // The classic list is walked without `lock`, inside an `srcu` read section; unlink keeps
  //                            the unlinked entry's `hnext` so a concurrent walk continues.
  // `wq` is woken by the last end (seq made even) for readBegin() and remove() sleepers.
  // `hasItree` is written once, under the mmap write lock and `lock`, before the first
  //                            insert; the starts in flight at that moment (counted in
  //                            `startsBeforeItree` while the tree is off) become active.
  // Every section guarded by `lock` is synchronous and calls no callback, so under the
  // runtime's cooperative scheduler it is atomic by construction, as the kernel's is by the
  // spinlock; the runtime SpinLock is kept so lockdep and might_sleep() see it.

  /** @internal subscriptions->lock */
  readonly lock = new SpinLock('mmu_notifier_subscriptions.lock');
  /** @internal subscriptions->invalidate_seq: 2 at creation, odd = tree frozen. */
  seq = 2;
  /** @internal subscriptions->active_invalidate_ranges: starts without their end yet. */
  active = 0;
  /** @internal subscriptions->itree: closed intervals `[start, last]`. */
  readonly itree = new IntervalTree<MmuIntervalNotifier>();
  /** @internal subscriptions->deferred_list: inserts/removes postponed while frozen. */
  deferredHead: MmuIntervalNotifier | undefined = undefined;
  /** @internal subscriptions->wq */
  readonly wq = new WaitQueue('mmu_notifier_subscriptions.wq');
  /** @internal subscriptions->has_itree */
  itreeEnabled = false;
  /** @internal starts made while the tree was off that have no end yet (see adoptStarts()). */
  startsBeforeItree = 0;
  /** @internal subscriptions->list: classic subscribers, newest first (hlist_add_head). */
  listHead: MmuNotifier | undefined = undefined;
  /** @internal the notifier SRCU (the kernel has one static `srcu` for every mm; here one per mm). */
  readonly srcu = new Srcu('mmu_notifier');
  /** @internal __mmu_notifier_invalidate_range_start_map (lockdep pseudo-lock). */
  readonly startMap = new LockdepMap('mmu_notifier_invalidate_range_start');
  /** @internal the address space's own hooks (`this` when standalone). */
  readonly backing: MmuNotifierMm;
  #users = 1;
  #count = 1;

  /**
   * Creates the notifier state of an address space. With no argument the subscriptions are a
   * standalone address space of their own (`mm === this`), alive until release().
   */
  constructor(mm?: MmuNotifierMm) {
    if (mm !== undefined && (typeof mm !== 'object' || mm === null || !('mmapLock' in mm))) {
      throw new KernelError('EINVAL', `mm must implement MmuNotifierMm, got ${String(mm)}`);
    }
    this.backing = mm ?? this;
    this.mm = this.backing;
    this.mmapLock = mm ? mm.mmapLock : new RwSemaphore('mmap_lock');
  }

  /** The global invalidate_seq: even when idle, odd while an invalidation holds the tree. */
  get invalidateSeq(): number {
    return this.seq;
  }

  /** active_invalidate_ranges: invalidateRangeStart() calls without their end yet. */
  get activeInvalidateRanges(): number {
    return this.active;
  }

  /** has_itree: an interval notifier has been inserted at least once. */
  get hasItree(): boolean {
    return this.itreeEnabled;
  }

  /** mm_users of the address space; a standalone one has 1 until release(). */
  mmUsers(): number {
    return this.backing === this ? this.#users : this.backing.mmUsers();
  }

  /** mmgrab(): takes an mm_count reference. */
  mmgrab(): void {
    if (this.backing === this) this.#count++;
    else this.backing.mmgrab();
  }

  /** mmdrop(): drops an mm_count reference. */
  mmdrop(): void {
    if (this.backing !== this) {
      this.backing.mmdrop();
      return;
    }
    if (this.#count === 0) violation('use-after-free', 'mmdrop() on an mm whose mm_count is 0');
    this.#count--;
  }

  /**
   * Subscribes `ops.invalidate` to `[start, start + length - 1]`.
   * Mirrors mmu_interval_notifier_insert().
   *
   * **Details**: when no invalidation is running the subscription goes straight into the tree;
   * while one holds the tree (odd sequence) the insert is deferred to its end; while one runs
   * without holding it, the tree is frozen and the subscription inserted as if it were hit.
   * In every case the new subscription's sequence is odd, and the driver must use the
   * readBegin()/readRetry() flow before it maps anything.
   *
   * **Locking / Context**: may sleep: takes the mmap lock for write the first time (to turn
   * the interval tree on). The caller holds a user reference on the address space.
   * @throws KernelError EINVAL for a bad `start`/`length`/`ops` or a dead address space
   *   (mm_users 0); EOVERFLOW when `length` is 0 or `start + length - 1` passes 2^53 - 1.
   */
  async insertInterval(
    start: number,
    length: number,
    ops: MmuIntervalNotifierOps,
  ): Promise<MmuIntervalNotifier> {
    return itreeInsert(this, start, length, ops);
  }

  /**
   * insertInterval() for a caller that already holds the mmap lock for write.
   * Mirrors mmu_interval_notifier_insert_locked().
   *
   * **Locking / Context**: asserts the mmap write lock; never sleeps.
   * @throws KernelError as insertInterval(); a runtime violation without the write lock.
   */
  insertIntervalLocked(
    start: number,
    length: number,
    ops: MmuIntervalNotifierOps,
  ): MmuIntervalNotifier {
    return itreeInsertLocked(this, start, length, ops);
  }

  /**
   * Registers a classic notifier (a new one for `ops`, or the given instance).
   * Mirrors mmu_notifier_register().
   *
   * **Locking / Context**: may sleep; takes the mmap lock for write. Takes an mm reference,
   * dropped by unregister() or the last put().
   * @throws KernelError EINVAL for bad ops, ops with both archInvalidateSecondaryTlbs and the
   *   start/end pair, a notifier already registered, or a dead address space.
   */
  register(ops: MmuNotifierOps | MmuNotifier): Promise<MmuNotifier> {
    return classicRegister(this, ops);
  }

  /**
   * register() for a caller that holds the mmap lock for write. Mirrors __mmu_notifier_register().
   *
   * **Locking / Context**: asserts the mmap write lock; never sleeps.
   * @throws KernelError as register().
   */
  registerLocked(ops: MmuNotifierOps | MmuNotifier): MmuNotifier {
    return classicRegisterLocked(this, ops);
  }

  /**
   * Returns the one classic notifier registered with these exact `ops` (taking a reference),
   * or allocates one with `ops.allocNotifier` and registers it. Mirrors mmu_notifier_get().
   *
   * **Locking / Context**: may sleep; takes the mmap lock for write. Pair with `put()`.
   * @throws KernelError EINVAL when `ops` lacks allocNotifier/freeNotifier or register fails;
   *   EOVERFLOW when the reference count would pass 2^32 - 1.
   */
  get(ops: MmuNotifierOps): Promise<MmuNotifier> {
    return classicGet(this, ops);
  }

  /**
   * get() for a caller that holds the mmap lock for write. Mirrors mmu_notifier_get_locked().
   *
   * **Locking / Context**: asserts the mmap write lock; never sleeps.
   * @throws KernelError as get().
   */
  getLocked(ops: MmuNotifierOps): MmuNotifier {
    return classicGetLocked(this, ops);
  }

  /**
   * Starts a blockable invalidation of `range`: the interval subscriptions it hits, then every
   * classic `invalidateRangeStart`. Mirrors mmu_notifier_invalidate_range_start().
   *
   * **Details**: sets MMU_NOTIFIER_RANGE_BLOCKABLE in `range.flags`; callbacks may sleep.
   * Must be paired with invalidateRangeEnd(range).
   *
   * **Locking / Context**: may sleep; holds the `mmu_notifier_invalidate_range_start` lockdep
   * map around the callbacks, so a lock they take is ordered after reclaim.
   * @throws KernelError EINVAL for a malformed range or one of another mm.
   */
  invalidateRangeStart(range: MmuNotifierRange): Promise<void> {
    return invalidateStartBlockable(this, range);
  }

  /**
   * Starts a non-blockable invalidation (the OOM reaper's). Returns 0, or -EAGAIN when a
   * callback would have to sleep. Mirrors mmu_notifier_invalidate_range_start_nonblock().
   *
   * **Details**: clears MMU_NOTIFIER_RANGE_BLOCKABLE; callbacks run in the runtime's
   * non-blockable context. On -EAGAIN the pass has already unwound itself (the interval pass
   * ended, classic subscribers that have an end got it) and the caller must NOT call
   * invalidateRangeEnd(); on 0 it must.
   *
   * **Locking / Context**: never sleeps; a callback that sleeps or returns a Promise is
   * reported as a runtime violation.
   * @throws KernelError EINVAL for a malformed range or one of another mm.
   */
  invalidateRangeStartNonblock(range: MmuNotifierRange): number {
    return invalidateStartNonblock(this, range);
  }

  /**
   * Ends an invalidation started successfully: the interval side first (the last end makes the
   * sequence even, applies deferred inserts/removes and wakes sleepers), then every classic
   * `invalidateRangeEnd`. Mirrors mmu_notifier_invalidate_range_end().
   *
   * **Locking / Context**: may sleep when the range is blockable; never after a failed start.
   * @throws KernelError EINVAL for a malformed range; a runtime violation for an end without a
   *   matching successful start.
   */
  invalidateRangeEnd(range: MmuNotifierRange): Promise<void> {
    return invalidateEnd(this, range);
  }

  /**
   * Tears the notifiers down as the address space exits: one blockable RELEASE invalidation of
   * `[0, Number.MAX_SAFE_INTEGER)` over the interval subscriptions, then every classic
   * `release`, which are then unlinked. Mirrors __mmu_notifier_release().
   *
   * **Locking / Context**: may sleep; waits for a grace period so a concurrent unregister()'s
   * `release` has returned. A standalone address space has no users afterwards.
   */
  release(): Promise<void> {
    if (this.backing === this) this.#users = 0;
    return notifierRelease(this);
  }

  /**
   * Asks every classic subscriber to test and clear the accessed bit of `[start, end)` and
   * flush; returns the OR of the answers. Mirrors mmu_notifier_clear_flush_young().
   *
   * **Context**: never sleeps (called under the page-table lock).
   * @throws KernelError EINVAL for a bad range.
   */
  clearFlushYoung(start: number, end: number): number {
    checkHalfOpen(start, end);
    return classicClearFlushYoung(this, start, end);
  }

  /**
   * As clearFlushYoung() without the flush. Mirrors mmu_notifier_clear_young().
   * @throws KernelError EINVAL for a bad range.
   */
  clearYoung(start: number, end: number): number {
    checkHalfOpen(start, end);
    return classicClearYoung(this, start, end);
  }

  /**
   * Asks the classic subscribers whether `address` was accessed; the first non-zero answer
   * wins. Mirrors mmu_notifier_test_young().
   * @throws KernelError EINVAL for a bad address.
   */
  testYoung(address: number): number {
    checkAddress('address', address);
    return classicTestYoung(this, address);
  }

  /**
   * Tells every `archInvalidateSecondaryTlbs` subscriber (devices sharing the CPU page table)
   * to flush `[start, end)`. Mirrors mmu_notifier_arch_invalidate_secondary_tlbs().
   *
   * **Context**: never sleeps (called from the architecture's TLB flush, under the PTL).
   * @throws KernelError EINVAL for a bad range.
   */
  archInvalidateSecondaryTlbs(start: number, end: number): void {
    checkHalfOpen(start, end);
    classicArchInvalidateSecondaryTlbs(this, start, end);
  }

  /**
   * Waits until every free deferred by put() has run. Mirrors mmu_notifier_synchronize()
   * (for this address space's grace period domain).
   *
   * **Context**: may sleep.
   */
  synchronize(): Promise<void> {
    return this.srcu.barrier();
  }

  /** @internal throws EINVAL unless `range` belongs to this address space. */
  checkRange(range: unknown): asserts range is MmuNotifierRange {
    checkRange(range, this.mm);
  }
}
