import { KernelError } from '@hmmkit/runtime';

/**
 * Why a range of the address space is being invalidated, passed to every callback in
 * `range.event`. Mirrors enum mmu_notifier_event (include/linux/mmu_notifier.h), same
 * numeric values, as a runtime object so callbacks can compare and print it.
 */
export enum MmuNotifierEvent {
  /** munmap(), or mremap() moving the range away: the range no longer exists here. */
  UNMAP = 0,
  /** A PTE cleared for any other reason (madvise, page replacement, device-exclusive restore). */
  CLEAR,
  /** Protection of the whole range changed to the VMA's protection (mprotect). */
  PROTECTION_VMA,
  /** Per-page read/write bits changed; look at the CPU page table afterwards. */
  PROTECTION_PAGE,
  /** Soft-dirty tracking: same page, same access. */
  SOFT_DIRTY,
  /** The address space is being torn down (only the interval pass of release()). */
  RELEASE,
  /** migrate_vma_setup(); `owner` is the migrating driver's pgmap owner. */
  MIGRATE,
  /** A PTE converted to device-exclusive; `owner` is the make_device_exclusive() caller. */
  EXCLUSIVE,
}

/** The range may sleep: set by invalidateRangeStart(), cleared by invalidateRangeStartNonblock(). Mirrors MMU_NOTIFIER_RANGE_BLOCKABLE. */
export const MMU_NOTIFIER_RANGE_BLOCKABLE = 1;

/**
 * One invalidation: the half-open range `[start, end)` of `mm`, why, and who caused it.
 * Mirrors struct mmu_notifier_range.
 */
export interface MmuNotifierRange {
  /** The address space (the object given to `new MmuNotifierSubscriptions(mm)`, or the subscriptions themselves). */
  mm: unknown;
  /** First address, inclusive. */
  start: number;
  /** End address, exclusive. */
  end: number;
  /** MMU_NOTIFIER_RANGE_BLOCKABLE or 0; set by the start call, not by the caller. */
  flags: number;
  event: MmuNotifierEvent;
  /** Opaque owner (pgmap owner for MIGRATE, make_device_exclusive() owner for EXCLUSIVE), else undefined. */
  owner: unknown;
}

/** The interval pass of release() covers `[0, RELEASE_END)`, the kernel's `[0, ULONG_MAX)`. */
export const RELEASE_END = Number.MAX_SAFE_INTEGER;

const LAST_EVENT = MmuNotifierEvent.EXCLUSIVE;

/** Throws EINVAL unless `v` is an integer address in `[0, Number.MAX_SAFE_INTEGER]`. */
export function checkAddress(name: string, v: unknown): asserts v is number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) {
    throw new KernelError(
      'EINVAL',
      `${name} must be an integer in [0, 2^53 - 1], got ${String(v)}`,
    );
  }
}

/** Throws EINVAL unless `[start, end)` is a non-empty half-open address range. */
export function checkHalfOpen(start: unknown, end: unknown): asserts end is number {
  checkAddress('start', start);
  checkAddress('end', end);
  if (end <= start) throw new KernelError('EINVAL', `end (${end}) must be above start (${start})`);
}

function checkEvent(event: unknown): void {
  if (!Number.isInteger(event) || (event as number) < 0 || (event as number) > LAST_EVENT) {
    throw new KernelError(
      'EINVAL',
      `event must be a MmuNotifierEvent (0..${LAST_EVENT}), got ${String(event)}`,
    );
  }
}

function checkFlags(flags: unknown): void {
  if (flags !== 0 && flags !== MMU_NOTIFIER_RANGE_BLOCKABLE) {
    throw new KernelError(
      'EINVAL',
      `flags must be 0 or MMU_NOTIFIER_RANGE_BLOCKABLE, got ${String(flags)}`,
    );
  }
}

/**
 * Builds the range describing one invalidation of `[start, end)`.
 * Mirrors mmu_notifier_range_init() and, with `owner`, mmu_notifier_range_init_owner().
 *
 * **Context**: any; allocates one object, takes no lock.
 *
 * @throws KernelError EINVAL when `event` is not a MmuNotifierEvent, `flags` has a bit other
 *   than MMU_NOTIFIER_RANGE_BLOCKABLE, or `[start, end)` is not a non-empty integer range.
 * @example
 * const range = mmuNotifierRangeInit(MmuNotifierEvent.CLEAR, 0, subs.mm, 0x1000, 0x2000);
 * await subs.invalidateRangeStart(range);
 * await subs.invalidateRangeEnd(range);
 */
export function mmuNotifierRangeInit(
  event: MmuNotifierEvent,
  flags: number,
  mm: unknown,
  start: number,
  end: number,
  owner?: unknown,
): MmuNotifierRange {
  checkEvent(event);
  checkFlags(flags);
  checkHalfOpen(start, end);
  return { mm, start, end, flags, event, owner };
}

/**
 * True when the callbacks for `range` may sleep. Mirrors mmu_notifier_range_blockable().
 *
 * **Context**: any, including invalidation callbacks (that is what it is for).
 * @example
 * invalidate(sub, range, cur) { if (!mmuNotifierRangeBlockable(range)) return false; ... }
 */
export function mmuNotifierRangeBlockable(range: MmuNotifierRange): boolean {
  return (range.flags & MMU_NOTIFIER_RANGE_BLOCKABLE) !== 0;
}

/** Throws EINVAL unless `range` is a well-formed range of `mm`. */
export function checkRange(range: unknown, mm: unknown): asserts range is MmuNotifierRange {
  if (typeof range !== 'object' || range === null) {
    throw new KernelError('EINVAL', `range must be a MmuNotifierRange, got ${String(range)}`);
  }
  const r = range as MmuNotifierRange;
  if (r.mm !== mm) throw new KernelError('EINVAL', 'range.mm is not the mm of these subscriptions');
  checkEvent(r.event);
  checkHalfOpen(r.start, r.end);
}
