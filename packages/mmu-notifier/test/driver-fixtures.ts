import { MmuNotifierEvent, MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { Mutex, schedulePoint, spawn } from '@hmmkit/runtime';
import { PAGE, rangeOf } from './helpers.js';

/** One CPU page-table entry and the device's copy of it. */
export interface Mapping {
  cpu: number;
  device: number | undefined;
}

/**
 * The CPU side: the page at 0 is remapped from pfn 1 to pfn 2 under invalidateRangeStart/End,
 * as munmap + mmap or a migration would.
 */
async function cpuRemap(subs: MmuNotifierSubscriptions, map: Mapping): Promise<void> {
  const range = rangeOf(subs, 0, PAGE, MmuNotifierEvent.MIGRATE);
  await subs.invalidateRangeStart(range);
  map.cpu = 2;
  await schedulePoint(); // the unmap and TLB flush take time
  await subs.invalidateRangeEnd(range);
}

/** After both tasks: a device translation, if any, is the CPU's current one. */
function checkNotStale(map: Mapping): void {
  if (map.device !== undefined && map.device !== map.cpu) {
    throw new Error(
      `stale device mapping: device has pfn ${map.device}, the CPU maps pfn ${map.cpu}`,
    );
  }
}

/**
 * The documented driver (Documentation/mm/hmm.rst): read_begin, fault, lock, read_retry,
 * program, unlock; the callback takes the same lock and calls setSeq.
 */
export async function seqDriverScenario(): Promise<void> {
  const subs = new MmuNotifierSubscriptions();
  const map: Mapping = { cpu: 1, device: undefined };
  const lock = new Mutex('mirror_lock');
  const sub = await subs.insertInterval(0, PAGE, {
    async invalidate(s, _range, cur) {
      await lock.lock();
      s.setSeq(cur);
      map.device = undefined;
      lock.unlock();
      return true;
    },
  });
  const device = spawn('device', async () => {
    for (;;) {
      const seq = await sub.readBegin();
      const pfn = map.cpu; // hmm_range_fault(): read the CPU page table
      await schedulePoint();
      await lock.lock();
      if (sub.readRetry(seq)) {
        lock.unlock();
        continue;
      }
      map.device = pfn;
      lock.unlock();
      return;
    }
  });
  const cpu = spawn('cpu', () => cpuRemap(subs, map));
  await device.join();
  await cpu.join();
  checkNotStale(map);
}

/**
 * The historical broken driver: a classic notifier clears a `valid` flag in start and sets it
 * again in end; the fault path programs whatever it read if `valid` is set when it looks. An
 * entire invalidation between the fault and the check leaves `valid` true, so a stale pfn is
 * programmed. The sequence count catches exactly this.
 */
export async function validFlagDriverScenario(): Promise<void> {
  const subs = new MmuNotifierSubscriptions();
  const map: Mapping = { cpu: 1, device: undefined };
  const lock = new Mutex('mirror_lock');
  let valid = true;
  await subs.register({
    async invalidateRangeStart() {
      await lock.lock();
      valid = false;
      map.device = undefined;
      lock.unlock();
      return 0;
    },
    async invalidateRangeEnd() {
      await lock.lock();
      valid = true;
      lock.unlock();
    },
  });
  const device = spawn('device', async () => {
    for (;;) {
      const pfn = map.cpu;
      await schedulePoint();
      await lock.lock();
      if (!valid) {
        lock.unlock();
        await schedulePoint();
        continue;
      }
      map.device = pfn;
      lock.unlock();
      return;
    }
  });
  const cpu = spawn('cpu', () => cpuRemap(subs, map));
  await device.join();
  await cpu.join();
  checkNotStale(map);
}

/**
 * Three tasks: the device mirrors page 0 while one CPU remaps it and another CPU invalidates
 * a range next to it that hits nothing (the tree is then "partially excluded" in some
 * schedules) and then all of it, so the invalidations overlap in time.
 */
export async function twoCpuScenario(): Promise<void> {
  const subs = new MmuNotifierSubscriptions();
  const map: Mapping = { cpu: 1, device: undefined };
  const lock = new Mutex('mirror_lock');
  const sub = await subs.insertInterval(0, PAGE, {
    async invalidate(s, _range, cur) {
      await lock.lock();
      s.setSeq(cur);
      map.device = undefined;
      lock.unlock();
      return true;
    },
  });
  const device = spawn('device', async () => {
    for (;;) {
      const seq = await sub.readBegin();
      const pfn = map.cpu;
      await schedulePoint();
      await lock.lock();
      if (sub.readRetry(seq)) {
        lock.unlock();
        continue;
      }
      map.device = pfn;
      lock.unlock();
      return;
    }
  });
  const other = spawn('cpu1', async () => {
    for (const [s, e] of [
      [PAGE, 2 * PAGE],
      [0, 2 * PAGE],
    ] as const) {
      const r = rangeOf(subs, s, e);
      await subs.invalidateRangeStart(r);
      await schedulePoint();
      await subs.invalidateRangeEnd(r);
    }
  });
  const cpu = spawn('cpu0', () => cpuRemap(subs, map));
  await device.join();
  await cpu.join();
  await other.join();
  checkNotStale(map);
  if (subs.activeInvalidateRanges !== 0 || subs.invalidateSeq % 2 !== 0) {
    throw new Error(`not idle after all tasks: active=${subs.activeInvalidateRanges}`);
  }
}
