import { mightSleep, nonBlockEnd, nonBlockStart } from '@hmmkit/runtime';
import { deferredApply } from './deferred-list.js';
import { type MmuNotifierRange, mmuNotifierRangeBlockable } from './event.js';
import type { MmuIntervalNotifier } from './interval-notifier.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';
import { violation, warnOn } from './violation.js';

/** -EAGAIN, as the kernel returns it. */
export const EAGAIN_RET = -11;

// The interval pass, write side (mn_itree_invalidate / mn_itree_inv_end).
//
// Sequence-count state machine, all transitions under `s.lock`:
//
// | state                  | active | seq  | tree        | event                           | next              |
// |------------------------|--------|------|-------------|---------------------------------|-------------------|
// | idle                   | 0      | even | may change  | start, range hits a sub         | frozen            |
// | idle                   | 0      | even | may change  | start, range hits nothing       | partially excluded|
// | partially excluded     | > 0    | even | may change  | start hits a sub, or insert     | frozen (seq |= 1) |
// | partially excluded     | > 0    | even | may change  | last end                        | idle (seq same)   |
// | frozen                 | > 0    | odd  | deferred    | more starts/ends, not the last  | frozen            |
// | frozen                 | > 0    | odd  | deferred    | last end: seq++, apply deferred | idle (wake all)   |
//
// Each sub hit by a frozen pass receives the odd `curSeq` and stores it with setSeq(); a fresh
// sub holds `seq - 1` (odd, never equal to an even global seq). So `sub seq == global seq`
// means "this sub is under invalidation now", and any change of the sub's seq since
// readBegin() means "an invalidation collided".

/** mn_itree_inv_start_range(): counts the start and freezes the tree if the range hits a sub. */
function invStartRange(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): MmuIntervalNotifier | undefined {
  s.lock.lock();
  s.active++;
  const node = s.itree.iterFirst(range.start, range.end - 1);
  if (node && s.seq % 2 === 0) s.seq++;
  s.lock.unlock();
  return node?.value;
}

/** mn_itree_inv_next(): the tree is frozen, so walking it without the lock is safe. */
function invNext(s: MmuNotifierSubscriptions, sub: MmuIntervalNotifier, range: MmuNotifierRange) {
  return s.itree.iterNext(sub.node!, range.start, range.end - 1)?.value;
}

/**
 * mn_itree_inv_end(): the last end out of a frozen tree makes the sequence even, applies the
 * deferred inserts/removes and wakes every readBegin()/remove() sleeper.
 */
export function invEnd(s: MmuNotifierSubscriptions): void {
  s.lock.lock();
  if (s.active === 0) {
    s.lock.unlock();
    violation(
      'assertion',
      'invalidateRangeEnd() without a matching successful invalidateRangeStart()',
    );
  }
  if (--s.active !== 0 || s.seq % 2 === 0) {
    s.lock.unlock();
    return;
  }
  s.seq++;
  deferredApply(s);
  s.lock.unlock();
  s.wq.wakeUpAll();
}

/** Calls one subscription's invalidate; in a non-blockable range inside non_block_start/end. */
function callInvalidate(
  sub: MmuIntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
  blockable: boolean,
) {
  if (blockable) return sub.ops.invalidate(sub, range, curSeq);
  nonBlockStart();
  try {
    const ret = sub.ops.invalidate(sub, range, curSeq);
    if (typeof ret !== 'boolean') refusePromise(ret, 'interval invalidate()');
    return ret;
  } finally {
    nonBlockEnd();
  }
}

/**
 * A Promise from a callback of a non-blockable range cannot be waited for: waiting would be a
 * sleep. Called inside the non-blockable section, so the runtime's own might_sleep() check
 * reports it (and fails an explorer run even if the caller catches it).
 */
export function refusePromise(ret: unknown, what: string): never {
  if (ret instanceof Promise) ret.catch(() => undefined);
  mightSleep(`waiting for the Promise returned by ${what}`);
  // Not reached inside nonBlockStart(); kept so a non-boolean result is refused regardless.
  violation('sleep-in-nonblock', `${what} returned ${String(ret)} in a non-blockable range`);
}

/**
 * The interval pass of a start (mn_itree_invalidate): 0, or -EAGAIN after unwinding itself
 * (non-blockable only). Stays synchronous until a blockable callback returns a Promise.
 */
export function itreeInvalidate(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): number | Promise<number> {
  let sub = invStartRange(s, range);
  // Read in the same synchronous turn as invStartRange(): while we are active the odd value
  // cannot change, so this is the cur_seq the kernel reads under the lock.
  const curSeq = s.seq;
  const blockable = mmuNotifierRangeBlockable(range);
  for (; sub; sub = invNext(s, sub, range)) {
    const ret = callInvalidate(sub, range, curSeq, blockable);
    if (ret === true) continue;
    if (ret !== false) return itreeInvalidateAsync(s, range, sub, ret, curSeq);
    if (!blockable) return wouldBlock(s);
    warnOn(true, 'interval invalidate() returned false in a blockable range');
  }
  return 0;
}

/** The rest of a blockable pass once a callback has gone to sleep. */
async function itreeInvalidateAsync(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
  sleeping: MmuIntervalNotifier,
  pending: Promise<boolean>,
  curSeq: number,
): Promise<number> {
  let sub: MmuIntervalNotifier | undefined = sleeping;
  let ret = await pending;
  for (;;) {
    warnOn(ret !== true, 'interval invalidate() returned false in a blockable range');
    sub = invNext(s, sub, range);
    if (!sub) return 0;
    ret = await callInvalidate(sub, range, curSeq, true);
  }
}

/** out_would_block: on -EAGAIN the non-blocking caller is not allowed to call end, so end here. */
function wouldBlock(s: MmuNotifierSubscriptions): number {
  invEnd(s);
  return EAGAIN_RET;
}

/**
 * mn_itree_release(): one blockable RELEASE pass over the whole space, then its end.
 * Every callback must return true (a WARN otherwise).
 */
export async function itreeRelease(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): Promise<void> {
  let sub = invStartRange(s, range);
  const curSeq = s.seq;
  for (; sub; sub = invNext(s, sub, range)) {
    const ret = callInvalidate(sub, range, curSeq, true);
    warnOn(
      (typeof ret === 'boolean' ? ret : await ret) !== true,
      'interval invalidate() returned false during release',
    );
  }
  invEnd(s);
}
