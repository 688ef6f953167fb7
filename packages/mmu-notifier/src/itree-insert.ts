import { KernelError } from '@hmmkit/runtime';
import { classicRegisterItreeLocked } from './classic-register.js';
import { deferredAdd } from './deferred-list.js';
import { checkAddress } from './event.js';
import { MmuIntervalNotifier } from './interval-notifier.js';
import type { MmuIntervalNotifierOps } from './ops.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';
import { warnOn } from './violation.js';

function checkInsertArgs(length: unknown, ops: unknown, start: unknown): void {
  checkAddress('start', start);
  if (!Number.isSafeInteger(length) || (length as number) < 0) {
    throw new KernelError('EINVAL', `length must be a non-negative integer, got ${String(length)}`);
  }
  if (
    typeof ops !== 'object' ||
    ops === null ||
    typeof (ops as MmuIntervalNotifierOps).invalidate !== 'function'
  ) {
    throw new KernelError('EINVAL', 'ops must have an invalidate(sub, range, curSeq) function');
  }
}

/** mmu_interval_notifier_insert(): turns the tree on under the mmap write lock the first time. */
export async function itreeInsert(
  s: MmuNotifierSubscriptions,
  start: number,
  length: number,
  ops: MmuIntervalNotifierOps,
): Promise<MmuIntervalNotifier> {
  checkInsertArgs(length, ops, start);
  if (!s.itreeEnabled) {
    await s.mmapLock.downWrite();
    try {
      classicRegisterItreeLocked(s);
    } finally {
      s.mmapLock.upWrite();
    }
  }
  return insertSub(s, start, length, ops);
}

/** mmu_interval_notifier_insert_locked(): the caller holds the mmap write lock. */
export function itreeInsertLocked(
  s: MmuNotifierSubscriptions,
  start: number,
  length: number,
  ops: MmuIntervalNotifierOps,
): MmuIntervalNotifier {
  checkInsertArgs(length, ops, start);
  s.mmapLock.assertWriteLocked();
  if (!s.itreeEnabled) classicRegisterItreeLocked(s);
  return insertSub(s, start, length, ops);
}

/**
 * __mmu_interval_notifier_insert(): the three placements.
 *
 * While some invalidation runs we do not know which ranges it covers, so the new range is
 * assumed to be covered: a frozen tree (odd seq) defers the insert to the last end; a tree
 * that is not frozen (even seq, nothing hit yet) is frozen now and the sub inserted. Either
 * way the sub starts at the current (odd) seq, so readBegin() waits for the end. When idle,
 * the sub starts at `seq - 1`: odd, and not the current seq.
 */
function insertSub(
  s: MmuNotifierSubscriptions,
  start: number,
  length: number,
  ops: MmuIntervalNotifierOps,
) {
  if (length === 0 || start + (length - 1) > Number.MAX_SAFE_INTEGER) {
    throw new KernelError(
      'EOVERFLOW',
      `[start, start + length - 1] overflows: start=${start}, length=${length}`,
    );
  }
  if (s.mmUsers() <= 0)
    throw new KernelError('EINVAL', 'insertInterval() on an mm with no users (mmget() not held)');
  const sub = new MmuIntervalNotifier(s, start, start + (length - 1), ops);
  s.mmgrab(); // pairs with the mmdrop() in remove()
  s.lock.lock();
  if (s.active !== 0) {
    if (s.seq % 2 === 1) deferredAdd(s, sub);
    else {
      s.seq++;
      sub.node = s.itree.insert(sub.start, sub.last, sub);
    }
    sub.invalidateSeq = s.seq;
  } else {
    warnOn(s.seq % 2 === 1, 'interval tree frozen with no active invalidation');
    sub.invalidateSeq = s.seq - 1;
    sub.node = s.itree.insert(sub.start, sub.last, sub);
  }
  s.lock.unlock();
  return sub;
}
