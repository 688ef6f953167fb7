// The README's example, verbatim apart from the import path: it must keep running.

import {
  type MmuIntervalNotifier,
  MmuNotifierEvent,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  mmuNotifierRangeBlockable,
  mmuNotifierRangeInit,
} from '@hmmkit/mmu-notifier';
import { Mutex } from '@hmmkit/runtime';
import { expect, it } from 'vitest';

it('runs the README example: a device mirror kept coherent by the sequence count', async () => {
  const PAGE = 4096;
  const subs = new MmuNotifierSubscriptions(); // a standalone address space
  const cpuPte = new Map<number, number>([[0x10000, 100]]); // address -> pfn, the "CPU page table"
  const devicePte = new Map<number, number>(); // the device's copy
  const driverLock = new Mutex('driver_lock'); // the "user lock" of the kernel docs

  function zap(sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): boolean {
    sub.setSeq(curSeq); // under the driver lock: pairs with readRetry()
    for (let a = range.start; a < range.end; a += PAGE) devicePte.delete(a);
    driverLock.unlock();
    return true;
  }

  const sub = await subs.insertInterval(0x10000, 16 * PAGE, {
    invalidate(s, range, curSeq) {
      if (driverLock.trylock()) return zap(s, range, curSeq);
      if (!mmuNotifierRangeBlockable(range)) return false; // would have to sleep: -EAGAIN
      return driverLock.lock().then(() => zap(s, range, curSeq));
    },
  });

  async function mirror(addr: number): Promise<number | undefined> {
    for (;;) {
      const seq = await sub.readBegin();
      const pfn = cpuPte.get(addr); // hmm_range_fault() goes here; it may sleep
      await driverLock.lock();
      if (sub.readRetry(seq)) {
        driverLock.unlock(); // an invalidation collided: start over
        continue;
      }
      if (pfn !== undefined) devicePte.set(addr, pfn);
      driverLock.unlock();
      return pfn;
    }
  }

  await mirror(0x10000);
  const range = mmuNotifierRangeInit(MmuNotifierEvent.CLEAR, 0, subs.mm, 0x10000, 0x11000);
  await subs.invalidateRangeStart(range); // the device copy is torn down here
  cpuPte.set(0x10000, 200);
  await subs.invalidateRangeEnd(range);
  const torn = devicePte.get(0x10000);
  await mirror(0x10000);
  console.log(torn, devicePte.get(0x10000)); // undefined 200

  expect([torn, devicePte.get(0x10000)]).toEqual([undefined, 200]);
});
