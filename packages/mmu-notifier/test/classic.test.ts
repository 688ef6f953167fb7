import { MmuNotifier, type MmuNotifierOps, MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { Completion, isKernelError, RuntimeViolation, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { type Call, CountingMm, caught, PAGE, rangeOf, recordingOps, say } from './helpers.js';

describe('classic notifiers', () => {
  it('calls start and end of every subscriber, newest first', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    const ops = (n: string): MmuNotifierOps => ({
      invalidateRangeStart: () => say(calls, `start ${n}`, 0),
      invalidateRangeEnd: () => void calls.push(`end ${n}`),
    });
    await subs.register(ops('a'));
    await subs.register(ops('b'));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(calls).toEqual(['start b', 'start a', 'end b', 'end a']);
  });

  it('register takes an mm_count reference and unregister drops it after release', async () => {
    const mm = new CountingMm();
    const subs = new MmuNotifierSubscriptions(mm);
    const released: unknown[] = [];
    const n = await subs.register({ release: (_s, m) => void released.push(m) });
    expect(n.mm).toBe(mm);
    expect(mm.count).toBe(2);
    await n.unregister();
    expect(released).toEqual([mm]);
    expect(mm.count).toBe(1);
    expect(isKernelError(await caught(() => n.unregister()), 'EINVAL')).toBe(true);
  });

  it('unregister after the address space released the notifier does not call release again', async () => {
    const subs = new MmuNotifierSubscriptions();
    let releases = 0;
    const n = await subs.register({ release: () => void releases++ });
    await subs.release();
    await n.unregister();
    expect(releases).toBe(1);
  });

  it('unregister waits for a release running concurrently on the exit path', async () => {
    const subs = new MmuNotifierSubscriptions();
    let inFlight = 0;
    let calls = 0;
    const gate = new Completion('gate');
    const n = await subs.register({
      async release() {
        inFlight++;
        calls++;
        await gate.waitForCompletion();
        inFlight--;
      },
    });
    const exit = spawn('exit', () => subs.release());
    await schedulePoint(); // exit is asleep inside ->release, the notifier still hashed
    const unreg = spawn('unregister', async () => {
      await n.unregister();
      return inFlight;
    });
    await schedulePoint();
    expect(unreg.done).toBe(false);
    gate.completeAll();
    expect(await unreg.join()).toBe(0); // both ->release calls had returned
    await exit.join();
    expect(calls).toBe(2); // the kernel may run ->release from both paths at once
  });

  it('refuses ops that combine archInvalidateSecondaryTlbs with start/end (EINVAL)', async () => {
    const subs = new MmuNotifierSubscriptions();
    const err = await caught(() =>
      subs.register({ archInvalidateSecondaryTlbs: () => {}, invalidateRangeEnd: () => {} }),
    );
    expect(isKernelError(err, 'EINVAL')).toBe(true);
  });

  it('get() returns the same notifier for the same ops and put() frees it after a grace period', async () => {
    const mm = new CountingMm();
    const subs = new MmuNotifierSubscriptions(mm);
    const freed: MmuNotifier[] = [];
    let allocs = 0;
    const ops: MmuNotifierOps = {
      allocNotifier: () => {
        allocs++;
        return new MmuNotifier();
      },
      freeNotifier: (s) => void freed.push(s),
    };
    const a = await subs.get(ops);
    const b = await subs.get(ops);
    expect(b).toBe(a);
    expect(a.ops).toBe(ops);
    expect(allocs).toBe(1);
    a.put();
    await subs.synchronize();
    expect(freed).toEqual([]);
    b.put();
    expect(freed).toEqual([]); // call_srcu(): freed after a grace period, not in put()
    await subs.synchronize();
    expect(freed).toEqual([a]);
    expect(mm.count).toBe(1);
    const c = await subs.get(ops);
    expect(c).not.toBe(a);
  });

  it('get() frees what it allocated when registration fails', async () => {
    const subs = new MmuNotifierSubscriptions();
    const freed: MmuNotifier[] = [];
    const ops: MmuNotifierOps = {
      allocNotifier: () => new MmuNotifier(),
      freeNotifier: (s) => void freed.push(s),
      archInvalidateSecondaryTlbs: () => {},
      invalidateRangeStart: () => 0,
    };
    expect(isKernelError(await caught(() => subs.get(ops)), 'EINVAL')).toBe(true);
    expect(freed).toHaveLength(1);
  });

  it('put() does not call release', async () => {
    const subs = new MmuNotifierSubscriptions();
    let releases = 0;
    const ops: MmuNotifierOps = {
      allocNotifier: () => new MmuNotifier(),
      freeNotifier: () => {},
      release: () => void releases++,
    };
    (await subs.get(ops)).put();
    await subs.synchronize();
    await subs.release();
    expect(releases).toBe(0);
  });

  it('release() runs one blockable RELEASE pass over the whole space, then every classic release', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    const calls: string[] = [];
    await subs.insertInterval(0, PAGE, recordingOps(log, 'low', calls));
    await subs.insertInterval(2 ** 47, PAGE, recordingOps(log, 'high', calls));
    await subs.register({ release: () => void calls.push('classic release') });
    await subs.release();
    expect(calls).toEqual(['itree:low', 'itree:high', 'classic release']);
    expect(log.map((c) => [c.start, c.end, c.blockable, c.event])).toEqual([
      [0, Number.MAX_SAFE_INTEGER, true, 5],
      [0, Number.MAX_SAFE_INTEGER, true, 5],
    ]);
    expect([subs.invalidateSeq, subs.activeInvalidateRanges]).toEqual([4, 0]);
    expect(subs.mmUsers()).toBe(0);
    expect(
      isKernelError(await caught(() => subs.insertInterval(0, PAGE, recordingOps([]))), 'EINVAL'),
    ).toBe(true);
  });

  it('ORs clearFlushYoung and clearYoung answers and stops testYoung at the first non-zero', async () => {
    const subs = new MmuNotifierSubscriptions();
    const asked: string[] = [];
    await subs.register({
      clearFlushYoung: () => 1,
      clearYoung: () => 0,
      testYoung: () => say(asked, 'a', 1),
    });
    await subs.register({
      clearFlushYoung: () => 0,
      clearYoung: () => 2,
      testYoung: () => say(asked, 'b', 0),
    });
    await subs.register({ testYoung: () => say(asked, 'c', 4) });
    expect(subs.clearFlushYoung(0, PAGE)).toBe(1);
    expect(subs.clearYoung(0, PAGE)).toBe(2);
    expect(subs.testYoung(0)).toBe(4);
    expect(asked).toEqual(['c']);
  });

  it('dispatches archInvalidateSecondaryTlbs with the mm and the range', async () => {
    const subs = new MmuNotifierSubscriptions();
    const seen: unknown[] = [];
    await subs.register({
      archInvalidateSecondaryTlbs: (_s, mm, s, e) => void seen.push(mm, s, e),
    });
    subs.archInvalidateSecondaryTlbs(PAGE, 2 * PAGE);
    expect(seen).toEqual([subs, PAGE, 2 * PAGE]);
  });

  it('registers a given MmuNotifier instance (a driver subclass) once', async () => {
    class Driver extends MmuNotifier {
      hits = 0;
    }
    const d = new Driver({
      invalidateRangeStart: (s) => {
        (s as Driver).hits++;
        return 0;
      },
    });
    const subs = new MmuNotifierSubscriptions();
    expect(await subs.register(d)).toBe(d);
    expect(isKernelError(await caught(() => subs.register(d)), 'EINVAL')).toBe(true);
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(d.hits).toBe(1);
  });

  it('get() fails with EOVERFLOW when the user count is at UINT_MAX', async () => {
    const subs = new MmuNotifierSubscriptions();
    const ops: MmuNotifierOps = { allocNotifier: () => new MmuNotifier(), freeNotifier: () => {} };
    const n = await subs.get(ops);
    n.users = 0xffffffff; // white-box: 2^32 - 1 get() calls would take too long
    expect(isKernelError(await caught(() => subs.get(ops)), 'EOVERFLOW')).toBe(true);
  });

  it('registerLocked() and getLocked() require the mmap lock held for write', async () => {
    const subs = new MmuNotifierSubscriptions();
    expect(await caught(() => subs.registerLocked({}))).toBeInstanceOf(RuntimeViolation);
    const ops: MmuNotifierOps = { allocNotifier: () => new MmuNotifier(), freeNotifier: () => {} };
    expect(await caught(() => subs.getLocked(ops))).toBeInstanceOf(RuntimeViolation);
    await subs.mmapLock.downWrite();
    const n = subs.registerLocked({});
    subs.mmapLock.upWrite();
    expect(n.mm).toBe(subs);
  });

  it('release() unlinks every classic notifier even when a release callback puts its own', async () => {
    const subs = new MmuNotifierSubscriptions();
    const order: string[] = [];
    const ops: MmuNotifierOps = {
      allocNotifier: () => new MmuNotifier(),
      freeNotifier: () => void order.push('free'),
      release: (sub) => {
        order.push('release');
        sub.put(); // allowed from ->release
      },
    };
    await subs.get(ops);
    await subs.register({ release: () => void order.push('release 2'), clearYoung: () => 1 });
    expect(subs.clearYoung(0, PAGE)).toBe(1);
    await subs.release();
    await subs.synchronize();
    expect(order).toEqual(['release 2', 'release', 'free']);
    expect(subs.clearYoung(0, PAGE)).toBe(0); // the list is empty now
  });

  it('unregister waits for a classic callback that is running, and no callback runs after it returns', async () => {
    const subs = new MmuNotifierSubscriptions();
    const gate = new Completion('gate');
    let running = 0;
    let afterUnregister = 0;
    let unregistered = false;
    const n = await subs.register({
      async invalidateRangeStart() {
        if (unregistered) afterUnregister++;
        running++;
        await gate.waitForCompletion();
        running--;
        return 0;
      },
    });
    const cpu = spawn('cpu', async () => {
      const r = rangeOf(subs, 0, PAGE);
      await subs.invalidateRangeStart(r);
      await subs.invalidateRangeEnd(r);
    });
    await schedulePoint(); // cpu sleeps inside the callback, in the SRCU read section
    const unreg = spawn('unregister', async () => {
      await n.unregister();
      unregistered = true;
      return running;
    });
    await schedulePoint();
    expect(unreg.done).toBe(false); // synchronize_srcu() waits for the reader
    gate.completeAll();
    expect(await unreg.join()).toBe(0);
    await cpu.join();
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(afterUnregister).toBe(0);
  });
});
