import { beforeEach, describe, expect, it } from 'vitest';
import {
  __GFP_NOLOCKDEP,
  fsReclaimAcquire,
  fsReclaimRelease,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOFS,
  GFP_NOWAIT,
  LockdepMap,
  Mutex,
  mightAlloc,
  RuntimeViolation,
  RwSemaphore,
  resetRuntime,
  SpinLock,
  Srcu,
  spawn,
} from '../src/index.js';

beforeEach(() => resetRuntime());

async function kindOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof RuntimeViolation) return e.kind;
    throw e;
  }
  return undefined;
}

describe('lock-order graph', () => {
  it('reports an ABBA order in two tasks that never deadlock', async () => {
    const a = new Mutex('A');
    const b = new Mutex('B');
    const t1 = spawn('t1', async () => {
      await a.lock();
      await b.lock();
      b.unlock();
      a.unlock();
    });
    await t1.join();
    const t2 = spawn('t2', async () => {
      await b.lock();
      await a.lock();
    });
    const e = await t2.join().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeViolation);
    expect((e as RuntimeViolation).kind).toBe('lock-order');
    expect((e as Error).message).toMatch(
      /task t2#2 acquires A while holding B; existing chain: A -> B \(recorded by t1#1\)/,
    );
  });

  it('finds a cycle through a longer chain across lock types', async () => {
    const a = new Mutex('A');
    const b = new RwSemaphore('B');
    const c = new Mutex('C');
    await a.lock();
    await b.downRead();
    b.upRead();
    a.unlock();
    await b.downWrite();
    await c.lock();
    c.unlock();
    b.upWrite();
    await c.lock();
    const e = await a.lock().catch((x: unknown) => x);
    c.unlock();
    expect((e as RuntimeViolation).kind).toBe('lock-order');
    expect((e as Error).message).toMatch(/existing chain: A -> B \(recorded by main#0\), B -> C/);
  });

  it('reports an ABBA between two spinlocks', async () => {
    const s1 = new SpinLock('S1');
    const s2 = new SpinLock('S2');
    s1.lock();
    s2.lock();
    s2.unlock();
    s1.unlock();
    s2.lock();
    expect(await kindOf(() => s1.lock())).toBe('lock-order');
    expect(s1.locked).toBe(false);
    s2.unlock();
  });

  it('a trylock records no dependency, but locks taken under it are ordered after it', async () => {
    const a = new Mutex('A');
    const b = new Mutex('B');
    await b.lock();
    expect(a.trylock()).toBe(true);
    a.unlock();
    b.unlock();
    await a.lock();
    await b.lock();
    b.unlock();
    a.unlock();
  });

  it('two locks of one class nest only with a subclass annotation', async () => {
    const parent = new RwSemaphore('mmap_lock');
    const child = new RwSemaphore('mmap_lock');
    await parent.downWrite();
    expect(await kindOf(child.downWrite())).toBe('lock-order');
    await child.downWriteNested(1);
    child.upWrite();
    parent.upWrite();
  });

  it('synchronize under a lock that readers take is a lock-order cycle', async () => {
    const srcu = new Srcu('notifier');
    const m = new Mutex('driver');
    const reader = spawn('reader', async () => {
      const idx = srcu.readLock();
      await m.lock();
      m.unlock();
      srcu.readUnlock(idx);
    });
    await reader.join();
    await m.lock();
    expect(await kindOf(srcu.synchronize())).toBe('lock-order');
    m.unlock();
  });

  it('resetRuntime empties the graph', async () => {
    const a = new Mutex('A');
    const b = new Mutex('B');
    await a.lock();
    await b.lock();
    b.unlock();
    a.unlock();
    resetRuntime();
    await b.lock();
    await a.lock();
    a.unlock();
    b.unlock();
  });

  it('lockdep can be turned off', async () => {
    resetRuntime({ lockdep: false });
    const a = new Mutex('A');
    const b = new Mutex('B');
    await a.lock();
    await b.lock();
    b.unlock();
    a.unlock();
    await b.lock();
    await a.lock();
    a.unlock();
    b.unlock();
  });
});

describe('reclaim annotations', () => {
  function teachInvalidateMap(): LockdepMap {
    const map = new LockdepMap('invalidate_range_start');
    fsReclaimAcquire(GFP_KERNEL);
    map.acquire();
    map.release();
    fsReclaimRelease(GFP_KERNEL);
    return map;
  }

  it('GFP_KERNEL under a lock the invalidate path takes is reclaim-under-lock', async () => {
    const map = teachInvalidateMap();
    const m = new Mutex('driver->lock');
    map.acquire();
    await m.lock();
    m.unlock();
    map.release();
    await m.lock();
    const e = await kindOf(() => mightAlloc(GFP_KERNEL));
    m.unlock();
    expect(e).toBe('reclaim-under-lock');
  });

  it('the report comes in either order of discovery', async () => {
    const map = teachInvalidateMap();
    const m = new Mutex('driver->lock');
    await m.lock();
    mightAlloc(GFP_KERNEL);
    m.unlock();
    map.acquire();
    const e = await kindOf(m.lock());
    map.release();
    expect(e).toBe('reclaim-under-lock');
  });

  it('GFP_NOWAIT, GFP_ATOMIC, GFP_NOFS and __GFP_NOLOCKDEP do not take fs_reclaim', async () => {
    const map = teachInvalidateMap();
    const m = new Mutex('driver->lock');
    map.acquire();
    await m.lock();
    m.unlock();
    map.release();
    await m.lock();
    mightAlloc(GFP_NOWAIT);
    mightAlloc(GFP_ATOMIC);
    mightAlloc(GFP_NOFS);
    mightAlloc(GFP_KERNEL | __GFP_NOLOCKDEP);
    m.unlock();
  });

  it('a reclaim-capable allocation may sleep, an atomic one may not', async () => {
    const s = new SpinLock('s');
    s.lock();
    mightAlloc(GFP_ATOMIC);
    mightAlloc(GFP_NOWAIT);
    expect(await kindOf(() => mightAlloc(GFP_KERNEL))).toBe('sleep-in-atomic');
    s.unlock();
  });

  it('fsReclaimRelease without acquire is lock-misuse; bad masks are EINVAL', async () => {
    expect(await kindOf(() => fsReclaimRelease(GFP_KERNEL))).toBe('lock-misuse');
    expect(() => mightAlloc(-1)).toThrow(/EINVAL: mightAlloc: gfp must be an integer/);
    expect(() => fsReclaimAcquire(1.5)).toThrow(/EINVAL/);
    expect(() => new LockdepMap('')).toThrow(/EINVAL/);
  });
});
