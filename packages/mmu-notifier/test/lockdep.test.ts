import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { GFP_KERNEL, GFP_NOWAIT, Mutex, mightAlloc, RuntimeViolation } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { caught, PAGE, rangeOf } from './helpers.js';

async function lockTakingSubscription(lock: Mutex) {
  const subs = new MmuNotifierSubscriptions();
  const sub = await subs.insertInterval(0, PAGE, {
    async invalidate(s, _r, cur) {
      await lock.lock();
      s.setSeq(cur);
      lock.unlock();
      return true;
    },
  });
  const r = rangeOf(subs, 0, PAGE);
  await subs.invalidateRangeStart(r); // teaches: start map -> the driver lock
  await subs.invalidateRangeEnd(r);
  return { subs, sub };
}

describe('lockdep through the invalidate_range_start map', () => {
  it('reports a GFP_KERNEL allocation under a lock that an invalidation callback takes', async () => {
    const lock = new Mutex('lockdep_test_alloc_lock');
    await lockTakingSubscription(lock);
    await lock.lock();
    let err: unknown;
    try {
      mightAlloc(GFP_KERNEL);
    } catch (e) {
      err = e;
    }
    lock.unlock();
    expect(err).toBeInstanceOf(RuntimeViolation);
    expect((err as RuntimeViolation).kind).toBe('reclaim-under-lock');
  });

  it('accepts a GFP_NOWAIT allocation under that lock', async () => {
    const lock = new Mutex('lockdep_test_nowait_lock');
    await lockTakingSubscription(lock);
    await lock.lock();
    expect(() => mightAlloc(GFP_NOWAIT)).not.toThrow();
    lock.unlock();
  });

  it('reports readBegin() called with a lock that a callback takes', async () => {
    const lock = new Mutex('lockdep_test_read_lock');
    const { sub } = await lockTakingSubscription(lock);
    await lock.lock();
    const err = await caught(() => sub.readBegin());
    lock.unlock();
    expect(err).toBeInstanceOf(RuntimeViolation);
    expect(['lock-order', 'reclaim-under-lock']).toContain((err as RuntimeViolation).kind);
  });
});
