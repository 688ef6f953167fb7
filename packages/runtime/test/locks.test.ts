import { beforeEach, describe, expect, it } from 'vitest';
import {
  inAtomic,
  inNonBlock,
  isKernelError,
  Mutex,
  mightSleep,
  nonBlockEnd,
  nonBlockStart,
  RwSemaphore,
  resetRuntime,
  SpinLock,
  spawn,
} from '../src/index.js';
import { violationKind } from './violation-kind.js';

beforeEach(() => resetRuntime());

describe('SpinLock', () => {
  it('lock makes the task atomic until unlock', () => {
    const s = new SpinLock('s');
    expect(inAtomic()).toBe(false);
    s.lock();
    expect(s.locked).toBe(true);
    expect(inAtomic()).toBe(true);
    s.assertHeld();
    s.unlock();
    expect(inAtomic()).toBe(false);
    expect(s.locked).toBe(false);
  });

  it('sleeping with a spinlock held is sleep-in-atomic', async () => {
    const s = new SpinLock('s');
    const m = new Mutex('m');
    s.lock();
    await expect(m.lock()).rejects.toMatchObject({ kind: 'sleep-in-atomic' });
    expect(violationKind(() => mightSleep('x'))).toBe('sleep-in-atomic');
    s.unlock();
  });

  it('unlock of an unheld spinlock is lock-misuse', () => {
    expect(violationKind(() => new SpinLock('s').unlock())).toBe('lock-misuse');
  });

  it('trylock of a held spinlock returns false, and is allowed in atomic context', () => {
    const a = new SpinLock('a');
    const b = new SpinLock('b');
    a.lock();
    expect(a.trylock()).toBe(false);
    expect(b.trylock()).toBe(true);
    b.unlock();
    a.unlock();
  });

  it('relocking a held spinlock is a self-deadlock (lock-misuse)', () => {
    const s = new SpinLock('s');
    s.lock();
    expect(violationKind(() => s.lock())).toBe('lock-misuse');
    s.unlock();
  });

  it('assertHeld fails when not held', () => {
    expect(violationKind(() => new SpinLock('s').assertHeld())).toBe('assertion');
  });
});

describe('Mutex', () => {
  it('an uncontended lock does not yield', async () => {
    const m = new Mutex('m');
    let ran = false;
    const t = spawn('t', () => {
      ran = true;
    });
    await m.lock();
    expect(ran).toBe(false);
    m.unlock();
    await t.join();
  });

  it('a contended lock sleeps and is handed to the waiter in FIFO order', async () => {
    const m = new Mutex('m');
    const order: string[] = [];
    await m.lock();
    const ts = ['a', 'b'].map((n) =>
      spawn(n, async () => {
        await m.lock();
        order.push(n);
        m.unlock();
      }),
    );
    const j = Promise.all(ts.map((t) => t.join()));
    order.push('main');
    m.unlock();
    await j;
    expect(order).toEqual(['main', 'a', 'b']);
  });

  it('recursive locking is lock-misuse', async () => {
    const m = new Mutex('m');
    await m.lock();
    await expect(m.lock()).rejects.toMatchObject({ kind: 'lock-misuse' });
    m.unlock();
  });

  it('unlock of an unlocked mutex and unlock by a non-owner are lock-misuse', async () => {
    const m = new Mutex('m');
    expect(violationKind(() => m.unlock())).toBe('lock-misuse');
    await m.lock();
    const t = spawn('other', () => m.unlock());
    await expect(t.join()).rejects.toMatchObject({ kind: 'lock-misuse' });
    m.unlock();
  });

  it('trylock is allowed under a spinlock and in a non-blockable section', () => {
    const s = new SpinLock('s');
    const m = new Mutex('m');
    s.lock();
    expect(m.trylock()).toBe(true);
    m.unlock();
    s.unlock();
    nonBlockStart();
    expect(inNonBlock()).toBe(true);
    expect(m.trylock()).toBe(true);
    expect(m.trylock()).toBe(false);
    m.unlock();
    nonBlockEnd();
    expect(inNonBlock()).toBe(false);
  });

  it('sleeping in a non-blockable section is sleep-in-nonblock', async () => {
    const m = new Mutex('m');
    nonBlockStart();
    nonBlockStart();
    await expect(m.lock()).rejects.toMatchObject({ kind: 'sleep-in-nonblock' });
    nonBlockEnd();
    expect(violationKind(() => mightSleep())).toBe('sleep-in-nonblock');
    nonBlockEnd();
    expect(violationKind(() => nonBlockEnd())).toBe('lock-misuse');
  });
});

describe('RwSemaphore', () => {
  it('many readers share it, a writer excludes them', async () => {
    const r = new RwSemaphore('mmap_lock');
    await r.downRead();
    const other = spawn('reader', async () => {
      await r.downRead();
      const n = r.readers;
      r.upRead();
      return n;
    });
    expect(await other.join()).toBe(2);
    expect(r.downWriteTrylock()).toBe(false);
    r.upRead();
    expect(r.downWriteTrylock()).toBe(true);
    expect(r.writeLocked).toBe(true);
    r.assertWriteLocked();
    expect(r.downReadTrylock()).toBe(false);
    r.upWrite();
  });

  it('a reader queues behind a waiting writer', async () => {
    const r = new RwSemaphore('rw');
    const order: string[] = [];
    await r.downRead();
    const w = spawn('writer', async () => {
      await r.downWrite();
      order.push('writer');
      r.upWrite();
    });
    const rd = spawn('reader', async () => {
      await r.downRead();
      order.push('reader');
      r.upRead();
    });
    const all = Promise.all([w.join(), rd.join()]);
    order.push('main');
    r.upRead();
    await all;
    expect(order).toEqual(['main', 'writer', 'reader']);
  });

  it('downgradeWrite keeps the lock and lets queued readers in', async () => {
    const r = new RwSemaphore('rw');
    await r.downWrite();
    const rd = spawn('reader', async () => {
      await r.downRead();
      const n = r.readers;
      r.upRead();
      return n;
    });
    const j = rd.join();
    r.downgradeWrite();
    expect(r.writeLocked).toBe(false);
    r.assertHeld();
    expect(await j).toBe(2);
    r.upRead();
    expect(r.readers).toBe(0);
  });

  it('upRead without a read hold and upWrite by a reader are lock-misuse', async () => {
    const r = new RwSemaphore('rw');
    expect(violationKind(() => r.upRead())).toBe('lock-misuse');
    await r.downRead();
    expect(violationKind(() => r.upWrite())).toBe('lock-misuse');
    expect(violationKind(() => r.assertWriteLocked())).toBe('assertion');
    r.upRead();
  });
});

describe('bad input', () => {
  it('constructors reject empty names with EINVAL', () => {
    for (const C of [SpinLock, Mutex, RwSemaphore]) {
      expect(() => new C('')).toThrow(/EINVAL: .*name must be a non-empty string, got ""/);
    }
  });

  it('spawn rejects an empty name and a non-function with EINVAL', () => {
    let err: unknown;
    try {
      spawn('', () => 1);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL')).toBe(true);
    expect(() => spawn('x', 3 as never)).toThrow(/spawn: fn must be a function/);
  });
});
