import { beforeEach, describe, expect, it } from 'vitest';
import {
  currentTask,
  isKernelError,
  Mutex,
  RuntimeViolation,
  resetRuntime,
  schedulePoint,
  spawn,
  WaitQueue,
} from '../src/index.js';

beforeEach(() => resetRuntime());

describe('FIFO scheduler', () => {
  it('code outside any task runs as the implicit task main', () => {
    expect(currentTask().name).toBe('main');
    expect(currentTask().id).toBe(0);
  });

  it('a spawned task starts only when main blocks, and join returns its value', async () => {
    const order: string[] = [];
    const t = spawn('worker', () => {
      order.push(`run as ${currentTask().name}`);
      return 42;
    });
    order.push('spawned');
    expect(t.done).toBe(false);
    expect(await t.join()).toBe(42);
    expect(t.done).toBe(true);
    expect(order).toEqual(['spawned', 'run as worker']);
    expect(currentTask().name).toBe('main');
  });

  it('tasks run in FIFO order, each until it blocks', async () => {
    const order: string[] = [];
    const wq = new WaitQueue('wq');
    let go = false;
    const a = spawn('a', async () => {
      order.push('a1');
      await wq.waitEvent(() => go);
      order.push('a2');
    });
    const b = spawn('b', () => {
      order.push('b1');
      go = true;
      wq.wakeUp();
      order.push('b2');
    });
    await Promise.all([a.join(), b.join()]);
    expect(order).toEqual(['a1', 'b1', 'b2', 'a2']);
  });

  it('join rethrows the task error', async () => {
    const t = spawn('boom', () => {
      throw new Error('boom');
    });
    await expect(t.join()).rejects.toThrow('boom');
  });

  it('joining oneself is EDEADLK', async () => {
    const t = spawn('self', async () => {
      await currentTask().join();
    });
    await expect(t.join()).rejects.toSatisfy((e) => isKernelError(e, 'EDEADLK'));
  });

  it('schedulePoint lets other runnable tasks run first', async () => {
    const order: string[] = [];
    const a = spawn('a', async () => {
      order.push('a1');
      await schedulePoint();
      order.push('a2');
    });
    const b = spawn('b', () => order.push('b'));
    await Promise.all([a.join(), b.join()]);
    expect(order).toEqual(['a1', 'b', 'a2']);
  });

  it('currentTask stays correct across contended lock hand-offs', async () => {
    const m = new Mutex('m');
    const seen: string[] = [];
    const body = (name: string) => async () => {
      for (let i = 0; i < 3; i++) {
        await m.lock();
        seen.push(`${name}:${currentTask().name}`);
        await schedulePoint();
        m.unlock();
      }
    };
    const ts = [spawn('x', body('x')), spawn('y', body('y'))];
    await Promise.all(ts.map((t) => t.join()));
    expect(seen).toHaveLength(6);
    for (const s of seen) expect(s.split(':')[0]).toBe(s.split(':')[1]);
  });

  it('a deadlock involving main is reported to main with the wait chains', async () => {
    const a = new Mutex('dl-A');
    const b = new Mutex('dl-B');
    resetRuntime({ lockdep: false });
    const t1 = spawn('t1', async () => {
      await a.lock();
      await schedulePoint();
      await b.lock();
    });
    const t2 = spawn('t2', async () => {
      await b.lock();
      await schedulePoint();
      await a.lock();
    });
    const err = await Promise.all([t1.join(), t2.join()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeViolation);
    expect((err as RuntimeViolation).kind).toBe('deadlock');
    expect(String(err)).toMatch(/t1#1 waits for mutex dl-B held by t2#2/);
  });

  it('a task that exits holding a mutex fails with lock-misuse', async () => {
    const m = new Mutex('leak');
    const t = spawn('leaker', () => m.lock());
    await expect(t.join()).rejects.toMatchObject({ kind: 'lock-misuse' });
  });
});
