import type { MmuIntervalNotifier } from './interval-notifier.js';

// Read side against write side (mmu_interval_read_begin), one subscription:
//
//   invalidation (write side)              driver fault path (read side)
//   -------------------------------------  ----------------------------------------
//                                          readBegin():
//                                            lock; seq = sub.seq;
//                                            busy = (seq == global); unlock
//   invStartRange(): lock; global |= 1
//   ops.invalidate(sub, range, cur):
//     user_lock
//       sub.setSeq(cur)      // sub.seq = cur
//     user_unlock
//                                          ...fault the CPU pages (may sleep)...
//   invEnd(): lock; global++ (even); unlock
//                                          user_lock
//                                            readRetry(seq): sub.seq != seq -> true
//                                          user_unlock -> retry
//
// The user lock orders setSeq() against readRetry(); no other barrier is needed. If
// readBegin() saw `sub.seq == global`, the sub is being invalidated right now and it sleeps
// until the global seq moves (the last end); it returns the value it read, so readRetry() is
// then already true and the caller retries once, with a fresh readBegin().

/** mmu_interval_read_begin() */
export function itreeReadBegin(sub: MmuIntervalNotifier): Promise<number> {
  const s = sub.subs;
  s.lock.lock();
  const seq = sub.invalidateSeq; // pairs with the write in setSeq()
  const busy = seq === s.seq;
  s.lock.unlock();
  s.startMap.acquire();
  s.startMap.release();
  return busy ? waitSeqMoved(sub, seq) : settled(sub, seq);
}

async function waitSeqMoved(sub: MmuIntervalNotifier, seq: number): Promise<number> {
  const s = sub.subs;
  await s.wq.waitEvent(() => s.seq !== seq);
  return seq;
}

// The uncontended path returns an already-settled promise, cached per sequence value on the
// subscription, so a readBegin() that does not sleep allocates nothing.
function settled(sub: MmuIntervalNotifier, seq: number): Promise<number> {
  if (sub.settledSeq !== seq || sub.settled === undefined) {
    sub.settledSeq = seq;
    sub.settled = Promise.resolve(seq);
  }
  return sub.settled;
}
