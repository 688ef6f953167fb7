import { mightSleep } from '@hmmkit/runtime';
import { deferredAdd, deferredDel } from './deferred-list.js';
import type { MmuIntervalNotifier } from './interval-notifier.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';
import { warnOn } from './violation.js';

/** mmu_interval_seq_released(): read the seq under the lock, so invEnd() is done with the sub. */
function seqReleased(s: MmuNotifierSubscriptions, seq: number): boolean {
  s.lock.lock();
  const released = s.seq !== seq;
  s.lock.unlock();
  return released;
}

/**
 * mmu_interval_notifier_remove(): immediate when the tree is not frozen; a never-inserted
 * deferred sub is just unlinked; otherwise the removal is deferred and we sleep until the
 * seq moves past the value seen under the lock (the last end applied the deferred list).
 */
export async function itreeRemove(sub: MmuIntervalNotifier): Promise<void> {
  const s = sub.subs;
  mightSleep('mmu_interval_notifier_remove');
  sub.removed = true;
  let seq = 0;
  s.lock.lock();
  if (s.seq % 2 === 1) {
    if (sub.node === undefined) deferredDel(s, sub);
    else {
      deferredAdd(s, sub);
      seq = s.seq;
    }
  } else {
    warnOn(sub.node === undefined, 'removing an interval notifier that is not in the tree');
    s.itree.remove(sub.node!);
    sub.node = undefined;
  }
  s.lock.unlock();
  // The wait below needs the running invalidations to finish: the caller must not hold a
  // lock that a callback takes. Lockdep learns that through the start map.
  s.startMap.acquire();
  s.startMap.release();
  if (seq !== 0) await s.wq.waitEvent(() => seqReleased(s, seq));
  s.mmdrop(); // pairs with the mmgrab() in insert
}
