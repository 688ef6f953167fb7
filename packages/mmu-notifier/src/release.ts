import { hlistDelInit } from './classic-list.js';
import {
  MMU_NOTIFIER_RANGE_BLOCKABLE,
  MmuNotifierEvent,
  type MmuNotifierRange,
  RELEASE_END,
} from './event.js';
import { itreeRelease } from './itree-invalidate.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

/** __mmu_notifier_release(): the interval pass, then the classic one. */
export async function notifierRelease(s: MmuNotifierSubscriptions): Promise<void> {
  if (s.itreeEnabled) {
    const range: MmuNotifierRange = {
      mm: s.mm,
      start: 0,
      end: RELEASE_END,
      flags: MMU_NOTIFIER_RANGE_BLOCKABLE,
      event: MmuNotifierEvent.RELEASE,
      owner: undefined,
    };
    await itreeRelease(s, range);
  }
  if (s.listHead) await hlistRelease(s);
}

/**
 * mn_hlist_release(): every ->release inside an SRCU read section (so a concurrent
 * unregister() waits for it), then unlink them all (an unregister() arriving later sees them
 * unhashed and only waits), then a grace period so a ->release run by unregister() is done.
 */
async function hlistRelease(s: MmuNotifierSubscriptions): Promise<void> {
  const idx = s.srcu.readLock();
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      const ret = sub.ops.release?.(sub, s.mm);
      if (ret !== undefined) await ret;
    }
    s.lock.lock();
    while (s.listHead) hlistDelInit(s, s.listHead);
    s.lock.unlock();
  } finally {
    s.srcu.readUnlock(idx);
  }
  await s.srcu.synchronize();
}
