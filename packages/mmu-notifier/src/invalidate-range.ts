import { mightSleep, trace } from '@hmmkit/runtime';
import { hlistEnd, hlistStart } from './classic-dispatch.js';
import { MMU_NOTIFIER_RANGE_BLOCKABLE, type MmuNotifierRange } from './event.js';
import { invEnd, itreeInvalidate } from './itree-invalidate.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';
import { violation } from './violation.js';

// The public start/end entry points (the inline wrappers of include/linux/mmu_notifier.h
// around __mmu_notifier_invalidate_range_start/end). Both hold the lockdep pseudo-lock
// `mmu_notifier_invalidate_range_start` around the callbacks: any lock a callback takes is
// then ordered after it, and, since registration taught "reclaim, then this map", a
// reclaim-capable allocation under such a lock is reported.

const DONE: Promise<void> = Promise.resolve();

/** A tracepoint per pass; the event's args are the range itself (no allocation). */
function traceRange(name: string, range: MmuNotifierRange): void {
  trace('mmu_notifier', name, range as unknown as Record<string, unknown>);
}

/** __mmu_notifier_invalidate_range_start(): interval pass first; its failure skips the classic pass. */
function startPasses(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): number | Promise<number> {
  if (s.itreeEnabled) {
    const ret = itreeInvalidate(s, range);
    if (typeof ret !== 'number')
      return ret.then((r) => (r !== 0 || !s.listHead ? r : hlistStart(s, range)));
    if (ret !== 0) return ret;
  } else {
    s.startsBeforeItree++; // undone by the caller if a non-blockable start fails
  }
  return s.listHead ? hlistStart(s, range) : 0;
}

/** The end's counterpart of the interval pass while the tree is off. */
function endBeforeItree(s: MmuNotifierSubscriptions): void {
  if (s.startsBeforeItree === 0) {
    violation(
      'assertion',
      'invalidateRangeEnd() without a matching successful invalidateRangeStart()',
    );
  }
  s.startsBeforeItree--;
}

/** mmu_notifier_invalidate_range_start(): blockable; the result is ignored, as the kernel's is. */
export function invalidateStartBlockable(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): Promise<void> {
  let ret: number | Promise<number>;
  try {
    s.checkRange(range);
    traceRange('invalidate_range_start', range);
    mightSleep('mmu_notifier_invalidate_range_start');
    range.flags |= MMU_NOTIFIER_RANGE_BLOCKABLE;
    s.startMap.acquire();
  } catch (e) {
    return Promise.reject(e);
  }
  try {
    ret = startPasses(s, range);
  } catch (e) {
    s.startMap.release();
    return Promise.reject(e);
  }
  if (typeof ret === 'number') {
    s.startMap.release();
    return DONE;
  }
  return ret.then(
    () => s.startMap.release(),
    (e: unknown) => {
      s.startMap.release();
      throw e;
    },
  );
}

/** mmu_notifier_invalidate_range_start_nonblock(): 0 or -EAGAIN; never sleeps. */
export function invalidateStartNonblock(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): number {
  s.checkRange(range);
  traceRange('invalidate_range_start_nonblock', range);
  range.flags &= ~MMU_NOTIFIER_RANGE_BLOCKABLE;
  const itreeOn = s.itreeEnabled;
  s.startMap.acquire();
  try {
    // Non-blockable callbacks cannot return a Promise (they are refused as violations), so
    // the passes complete synchronously and the tree cannot be switched on meanwhile.
    const ret = startPasses(s, range) as number;
    if (ret !== 0 && !itreeOn) s.startsBeforeItree--;
    return ret;
  } finally {
    s.startMap.release();
  }
}

/** mmu_notifier_invalidate_range_end(): interval end first, then every classic end. */
export function invalidateEnd(s: MmuNotifierSubscriptions, range: MmuNotifierRange): Promise<void> {
  let pending: Promise<void> | undefined;
  try {
    s.checkRange(range);
    traceRange('invalidate_range_end', range);
    if ((range.flags & MMU_NOTIFIER_RANGE_BLOCKABLE) !== 0)
      mightSleep('mmu_notifier_invalidate_range_end');
    s.startMap.acquire();
  } catch (e) {
    return Promise.reject(e);
  }
  try {
    if (s.itreeEnabled) invEnd(s);
    else endBeforeItree(s);
    if (s.listHead) pending = hlistEnd(s, range);
  } catch (e) {
    s.startMap.release();
    return Promise.reject(e);
  }
  if (pending === undefined) {
    s.startMap.release();
    return DONE;
  }
  return pending.then(
    () => s.startMap.release(),
    (e: unknown) => {
      s.startMap.release();
      throw e;
    },
  );
}
