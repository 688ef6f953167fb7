import type { RwSemaphore } from '@hmmkit/runtime';
import type { MmuNotifierRange } from './event.js';
import type { MmuIntervalNotifier } from './interval-notifier.js';
import type { MmuNotifier } from './notifier.js';

/**
 * What an interval subscription is told. Mirrors struct mmu_interval_notifier_ops.
 *
 * `invalidate` runs for every invalidation that intersects the subscription, in tree order.
 * On return the driver must have stopped using its device mappings in the range. It must call
 * `sub.setSeq(curSeq)` under the driver's own lock (the one around `readRetry`), unless the
 * driver never uses readBegin/readRetry.
 *
 * **Context**: may sleep (return a Promise) only when `mmuNotifierRangeBlockable(range)`;
 * in a non-blockable range it runs in the runtime's non-blockable context, must not sleep,
 * and returns `false` when it would have to. Must not call `remove()`.
 */
export interface MmuIntervalNotifierOps {
  invalidate(
    sub: MmuIntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): boolean | Promise<boolean>;
}

/**
 * What a classic subscription is told; every member is optional. Mirrors struct mmu_notifier_ops.
 *
 * - `release`: the address space is going away (or unregister); tear down every secondary mapping. May sleep.
 * - `clearFlushYoung` / `clearYoung`: test and clear the accessed bit; results are OR-ed. Never sleeps.
 * - `testYoung`: test the accessed bit; the first non-zero answer wins. Never sleeps.
 * - `invalidateRangeStart`: 0, or -EAGAIN (only in a non-blockable range, and only if there is no
 *   `invalidateRangeEnd`). May sleep in a blockable range.
 * - `invalidateRangeEnd`: the range is unmapped; may sleep in a blockable range.
 * - `archInvalidateSecondaryTlbs`: flush a TLB that shares the CPU page table (IOMMU SVA);
 *   never sleeps; cannot be combined with the start/end pair (register fails with EINVAL).
 * - `allocNotifier` / `freeNotifier`: for `get()` / `put()`; `freeNotifier` runs after a grace period and never sleeps.
 */
export interface MmuNotifierOps {
  release?(sub: MmuNotifier, mm: unknown): void | Promise<void>;
  clearFlushYoung?(sub: MmuNotifier, mm: unknown, start: number, end: number): number;
  clearYoung?(sub: MmuNotifier, mm: unknown, start: number, end: number): number;
  testYoung?(sub: MmuNotifier, mm: unknown, address: number): number;
  invalidateRangeStart?(sub: MmuNotifier, range: MmuNotifierRange): number | Promise<number>;
  invalidateRangeEnd?(sub: MmuNotifier, range: MmuNotifierRange): void | Promise<void>;
  archInvalidateSecondaryTlbs?(sub: MmuNotifier, mm: unknown, start: number, end: number): void;
  allocNotifier?(mm: unknown): MmuNotifier;
  freeNotifier?(sub: MmuNotifier): void;
}

/**
 * What the subscriptions need from their address space (the parts of mm_struct they touch).
 * `@hmmkit/mm` passes its Mm; `new MmuNotifierSubscriptions()` uses a standalone one.
 */
export interface MmuNotifierMm {
  /** mmap_lock: register/insert take it for write; the `*Locked` variants assert it. */
  readonly mmapLock: RwSemaphore;
  /** mm_users: registering on an mm whose users dropped to 0 fails with EINVAL. */
  mmUsers(): number;
  /** mm_count references: taken by register/insert, dropped by unregister/put/remove. */
  mmgrab(): void;
  mmdrop(): void;
}
