import { beforeEach, describe, expect, it } from 'vitest';
import {
  Completion,
  Kref,
  Mutex,
  resetRuntime,
  SeqCount,
  SpinLock,
  Srcu,
  schedulePoint,
  spawn,
  WaitQueue,
} from '../src/index.js';
import { violationKind } from './violation-kind.js';

beforeEach(() => resetRuntime());

describe('WaitQueue', () => {
  it('waitEvent returns at once when the condition already holds', async () => {
    const wq = new WaitQueue('wq');
    await wq.waitEvent(() => true);
    expect(wq.hasSleeper).toBe(false);
  });

  it('a woken waiter re-checks its condition and sleeps again while false', async () => {
    const wq = new WaitQueue('wq');
    let n = 0;
    const wakes: number[] = [];
    const waiter = spawn('waiter', async () => {
      await wq.waitEvent(() => {
        wakes.push(n);
        return n >= 2;
      });
    });
    const waker = spawn('waker', async () => {
      for (let i = 0; i < 2; i++) {
        n++;
        wq.wakeUp();
        await schedulePoint();
      }
    });
    await Promise.all([waiter.join(), waker.join()]);
    expect(wakes).toEqual([0, 1, 2]);
  });

  it('rejects a non-function condition with EINVAL', async () => {
    await expect(new WaitQueue('wq').waitEvent(1 as never)).rejects.toThrow(
      /EINVAL: WaitQueue.waitEvent: cond/,
    );
  });
});

describe('Completion', () => {
  it('complete wakes one waiter per call; completeAll wakes all until reinit', async () => {
    const c = new Completion('c');
    let woke = 0;
    const ts = [1, 2, 3].map((i) =>
      spawn(`w${i}`, async () => {
        await c.waitForCompletion();
        woke++;
      }),
    );
    c.complete();
    await schedulePoint();
    expect(woke).toBe(1);
    c.completeAll();
    await Promise.all(ts.map((t) => t.join()));
    expect(woke).toBe(3);
    expect(c.done).toBe(true);
    expect(c.tryWaitForCompletion()).toBe(true);
    expect(c.done).toBe(true);
    c.reinit();
    expect(c.done).toBe(false);
    expect(c.tryWaitForCompletion()).toBe(false);
  });

  it('a completion before the wait is not lost', async () => {
    const c = new Completion('c');
    c.complete();
    expect(c.done).toBe(true);
    await c.waitForCompletion();
    expect(c.done).toBe(false);
  });
});

describe('SeqCount', () => {
  it('readRetry detects a write between begin and retry', async () => {
    const s = new SeqCount('s');
    const seq = await s.readBegin();
    expect(s.readRetry(seq)).toBe(false);
    s.writeBegin();
    expect(s.rawReadBegin()).toBe(seq);
    expect(s.readRetry(s.rawReadBegin())).toBe(true);
    s.writeEnd();
    expect(s.readRetry(seq)).toBe(true);
    expect(s.readRetry(await s.readBegin())).toBe(false);
  });

  it('a writer may not sleep and writers must be serialized', async () => {
    const s = new SeqCount('s');
    s.writeBegin();
    await expect(new Mutex('m').lock()).rejects.toMatchObject({ kind: 'sleep-in-atomic' });
    expect(violationKind(() => s.writeBegin())).toBe('lock-misuse');
    s.writeEnd();
    expect(violationKind(() => s.writeEnd())).toBe('lock-misuse');
  });
});

describe('Srcu', () => {
  it('synchronize waits for readers that started before it, not for later ones', async () => {
    const srcu = new Srcu('srcu');
    const log: string[] = [];
    const early = srcu.readLock();
    const syncer = spawn('syncer', async () => {
      await srcu.synchronize();
      log.push('synced');
    });
    const late = spawn('late-reader', async () => {
      const idx = srcu.readLock();
      log.push('late in');
      await schedulePoint();
      await schedulePoint();
      log.push('late still in');
      srcu.readUnlock(idx);
    });
    await schedulePoint();
    log.push('early out');
    srcu.readUnlock(early);
    await Promise.all([syncer.join(), late.join()]);
    expect(log.indexOf('early out')).toBeLessThan(log.indexOf('synced'));
    expect(log.indexOf('synced')).toBeLessThan(log.indexOf('late still in'));
  });

  it('synchronize inside its own read section is lock-misuse', async () => {
    const srcu = new Srcu('srcu');
    const idx = srcu.readLock();
    await expect(srcu.synchronize()).rejects.toMatchObject({ kind: 'lock-misuse' });
    srcu.readUnlock(idx);
    expect(violationKind(() => srcu.readUnlock(idx))).toBe('lock-misuse');
  });

  it('callSrcu runs callbacks after a grace period in atomic context; barrier waits for them', async () => {
    const srcu = new Srcu('srcu');
    const log: string[] = [];
    const idx = srcu.readLock();
    srcu.callSrcu(() => {
      log.push('cb');
      const s = new SpinLock('x');
      expect(s.trylock()).toBe(true);
      s.unlock();
    });
    const b = spawn('barrier', async () => {
      await srcu.barrier();
      log.push('barrier done');
    });
    await schedulePoint();
    expect(log).toEqual([]);
    srcu.readUnlock(idx);
    await b.join();
    expect(log).toEqual(['cb', 'barrier done']);
  });
});

describe('Kref', () => {
  it('release runs on the last put', () => {
    let released = 0;
    const k = new Kref('obj', () => released++);
    k.get();
    expect(k.read()).toBe(2);
    expect(k.put()).toBe(false);
    expect(k.put()).toBe(true);
    expect(released).toBe(1);
    expect(k.getUnlessZero()).toBe(false);
  });

  it('get, put or access after release is use-after-free', () => {
    const k = new Kref('obj', () => {}, 1);
    k.put();
    expect(violationKind(() => k.get())).toBe('use-after-free');
    expect(violationKind(() => k.put())).toBe('use-after-free');
    expect(violationKind(() => k.assertLive())).toBe('use-after-free');
  });

  it('rejects bad arguments with EINVAL', () => {
    expect(() => new Kref('', () => {})).toThrow(/EINVAL/);
    expect(() => new Kref('k', 1 as never)).toThrow(/release must be a function/);
    expect(() => new Kref('k', () => {}, 0)).toThrow(/initial must be an integer/);
  });
});
