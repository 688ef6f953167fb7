import { nonBlockEnd, nonBlockStart } from '@hmmkit/runtime';
import { type MmuNotifierRange, mmuNotifierRangeBlockable } from './event.js';
import { EAGAIN_RET, refusePromise } from './itree-invalidate.js';
import type { MmuNotifier } from './notifier.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';
import { warnOn } from './violation.js';

// The classic pass (mn_hlist_invalidate_range_start / mn_hlist_invalidate_end): every
// subscriber, newest first, inside one SRCU read section. Each loop stays synchronous until a
// blockable callback returns a Promise, then finishes in an async tail.

type StartRet = number | Promise<number>;

function callStart(sub: MmuNotifier, range: MmuNotifierRange, blockable: boolean): StartRet {
  const start = sub.ops.invalidateRangeStart!;
  if (blockable) return start.call(sub.ops, sub, range);
  nonBlockStart();
  try {
    const ret = start.call(sub.ops, sub, range);
    if (typeof ret !== 'number') refusePromise(ret, 'invalidateRangeStart()');
    return ret;
  } finally {
    nonBlockEnd();
  }
}

/** A start may fail only with -EAGAIN, only in a non-blockable range, and only without an end. */
function checkFailure(sub: MmuNotifier, range: MmuNotifierRange, ret: number): void {
  const blockable = mmuNotifierRangeBlockable(range);
  warnOn(
    blockable || ret !== EAGAIN_RET,
    `invalidateRangeStart() failed with ${ret} in a ${blockable ? '' : 'non-'}blockable range`,
  );
  warnOn(
    sub.ops.invalidateRangeEnd !== undefined,
    'an invalidateRangeStart() that fails cannot also have invalidateRangeEnd()',
  );
}

/** mn_hlist_invalidate_range_start(): 0 or the last failure, after unwinding. */
export function hlistStart(s: MmuNotifierSubscriptions, range: MmuNotifierRange): StartRet {
  const blockable = mmuNotifierRangeBlockable(range);
  const idx = s.srcu.readLock();
  let ret = 0;
  let sub = s.listHead;
  let pending: Promise<number> | undefined;
  try {
    for (; sub; sub = sub.hnext) {
      if (!sub.ops.invalidateRangeStart) continue;
      const r = callStart(sub, range, blockable);
      if (typeof r !== 'number') {
        pending = r;
        break;
      }
      if (r !== 0) {
        checkFailure(sub, range, r);
        ret = r;
      }
    }
  } catch (e) {
    s.srcu.readUnlock(idx);
    throw e;
  }
  if (pending) return hlistStartAsync(s, range, sub!, pending, ret, idx);
  return startDone(s, range, ret, idx);
}

function nextWithStart(sub: MmuNotifier | undefined): MmuNotifier | undefined {
  while (sub && !sub.ops.invalidateRangeStart) sub = sub.hnext;
  return sub;
}

async function hlistStartAsync(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
  sleeping: MmuNotifier,
  pending: Promise<number>,
  ret: number,
  idx: number,
): Promise<number> {
  try {
    let sub: MmuNotifier | undefined = sleeping;
    let r = await pending;
    for (;;) {
      if (r !== 0) {
        checkFailure(sub, range, r);
        ret = r;
      }
      sub = nextWithStart(sub.hnext);
      if (!sub) break;
      r = await callStart(sub, range, true);
    }
  } catch (e) {
    s.srcu.readUnlock(idx);
    throw e;
  }
  return startDone(s, range, ret, idx);
}

/**
 * After a failed start every subscriber that has an end gets it now: they are the ones whose
 * start succeeded (one that can fail may not have an end). The kernel makes these calls
 * without non_block_start(); we keep the range's context so a sleep there is still reported.
 */
function startDone(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
  ret: number,
  idx: number,
): StartRet {
  if (ret === 0) {
    s.srcu.readUnlock(idx);
    return 0;
  }
  const unwound = endFrom(range, s.listHead);
  if (unwound === undefined) {
    s.srcu.readUnlock(idx);
    return ret;
  }
  return unwound.then(
    () => {
      s.srcu.readUnlock(idx);
      return ret;
    },
    (e: unknown) => {
      s.srcu.readUnlock(idx);
      throw e;
    },
  );
}

function callEnd(
  sub: MmuNotifier,
  range: MmuNotifierRange,
  blockable: boolean,
): void | Promise<void> {
  const end = sub.ops.invalidateRangeEnd!;
  if (blockable) return end.call(sub.ops, sub, range);
  nonBlockStart();
  try {
    const ret = end.call(sub.ops, sub, range);
    if (ret !== undefined) refusePromise(ret, 'invalidateRangeEnd()');
  } finally {
    nonBlockEnd();
  }
}

/** Calls every end from `sub` on; undefined when all returned synchronously. */
function endFrom(range: MmuNotifierRange, sub: MmuNotifier | undefined) {
  const blockable = mmuNotifierRangeBlockable(range);
  for (; sub; sub = sub.hnext) {
    if (!sub.ops.invalidateRangeEnd) continue;
    const r = callEnd(sub, range, blockable);
    if (r !== undefined) return endAsync(range, sub, r);
  }
  return undefined;
}

async function endAsync(range: MmuNotifierRange, sleeping: MmuNotifier, p: Promise<void>) {
  await p;
  for (let sub = sleeping.hnext; sub; sub = sub.hnext) {
    if (sub.ops.invalidateRangeEnd) await callEnd(sub, range, true);
  }
}

/** mn_hlist_invalidate_end(): every end, newest first; undefined when all were synchronous. */
export function hlistEnd(
  s: MmuNotifierSubscriptions,
  range: MmuNotifierRange,
): Promise<void> | undefined {
  const idx = s.srcu.readLock();
  let pending: Promise<void> | undefined;
  try {
    pending = endFrom(range, s.listHead);
  } catch (e) {
    s.srcu.readUnlock(idx);
    throw e;
  }
  if (pending === undefined) {
    s.srcu.readUnlock(idx);
    return undefined;
  }
  return pending.finally(() => s.srcu.readUnlock(idx));
}
