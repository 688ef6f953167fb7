import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { isKernelError, Mutex, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { type Call, caught, PAGE, rangeOf, recordingOps } from './helpers.js';

describe('remove', () => {
  it('removes immediately when no invalidation holds the tree', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    const sub = await subs.insertInterval(0, PAGE, recordingOps(log));
    await sub.remove();
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(log).toEqual([]);
  });

  it('drops a never-inserted deferred subscription without waiting', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    await subs.insertInterval(0, PAGE, recordingOps([]));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    const deferred = await subs.insertInterval(0, PAGE, recordingOps(log));
    const remover = spawn('remover', () => deferred.remove());
    await schedulePoint();
    expect(remover.done).toBe(true);
    await subs.invalidateRangeEnd(r);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(log).toEqual([]); // the end did not insert it after all
  });

  it('waits for the end of the invalidation when the subscription is in a frozen tree', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0, PAGE, recordingOps([]));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    const remover = spawn('remover', () => sub.remove());
    await schedulePoint();
    expect(remover.done).toBe(false);
    await subs.invalidateRangeEnd(r);
    await remover.join();
    expect(subs.invalidateSeq).toBe(4);
  });

  it('runs no callback after it returns, even with a callback sleeping during the remove', async () => {
    const subs = new MmuNotifierSubscriptions();
    const driver = new Mutex('driver');
    let removed = false;
    let lateCalls = 0;
    const sub = await subs.insertInterval(0, PAGE, {
      async invalidate(s, _range, cur) {
        await driver.lock();
        if (removed) lateCalls++;
        s.setSeq(cur);
        driver.unlock();
        return true;
      },
    });
    await driver.lock(); // the callback will sleep on it
    const cpu = spawn('cpu', async () => {
      const r = rangeOf(subs, 0, PAGE);
      await subs.invalidateRangeStart(r);
      await subs.invalidateRangeEnd(r);
    });
    await schedulePoint(); // cpu is inside the callback, asleep
    const remover = spawn('remover', async () => {
      await sub.remove();
      removed = true;
    });
    await schedulePoint();
    expect(remover.done).toBe(false);
    driver.unlock();
    await cpu.join();
    await remover.join();
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(lateCalls).toBe(0);
  });

  it('fails with EINVAL when called twice', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0, PAGE, recordingOps([]));
    await sub.remove();
    expect(isKernelError(await caught(() => sub.remove()), 'EINVAL')).toBe(true);
  });
});
