import { beforeEach, describe, expect, it } from 'vitest';
import {
  currentTask,
  explore,
  exploreOrThrow,
  isKernelError,
  kthreadShouldStop,
  kthreadStop,
  Mutex,
  resetRuntime,
  schedulePoint,
  spawn,
  WaitQueue,
} from '../src/index.js';

beforeEach(() => resetRuntime());

describe('kthreadStop', () => {
  it('wakes a worker sleeping in waitEvent, which sees kthreadShouldStop and returns', async () => {
    const wq = new WaitQueue('work');
    const queue: number[] = [];
    const worker = spawn('worker', async () => {
      let done = 0;
      while (!kthreadShouldStop()) {
        await wq.waitEvent(() => queue.length > 0 || kthreadShouldStop());
        done += queue.splice(0).length;
      }
      return done;
    });
    queue.push(1, 2);
    wq.wakeUp();
    await schedulePoint();
    expect(kthreadShouldStop()).toBe(false);
    expect(await kthreadStop(worker)).toBe(2);
  });

  it('does not break a sleep on a lock: the task still waits for the lock', async () => {
    const m = new Mutex('m');
    const log: string[] = [];
    const holder = spawn('holder', async () => {
      await m.lock();
      await schedulePoint();
      await schedulePoint();
      log.push(`locker done: ${locker.done}`);
      m.unlock();
    });
    const locker = spawn('locker', async () => {
      await m.lock();
      m.unlock();
      return kthreadShouldStop();
    });
    const stopper = spawn('stopper', () => kthreadStop(locker));
    expect(await stopper.join()).toBe(true);
    await holder.join();
    expect(log).toEqual(['locker done: false']);
  });

  it('stopping oneself is EDEADLK; a stranger task is EINVAL', async () => {
    const t = spawn('me', () => kthreadStop(currentTask()));
    expect(isKernelError(await t.join().catch((x: unknown) => x), 'EDEADLK')).toBe(true);
    const stranger = { id: 99, name: 'x', done: false, join: async () => 0 };
    const e = await kthreadStop(stranger).catch((x: unknown) => x);
    expect(isKernelError(e, 'EINVAL')).toBe(true);
    expect((e as Error).message).toMatch(/kthreadStop: task must be a task of the running runtime/);
  });

  function workerScenario(drain: boolean) {
    return async () => {
      const wq = new WaitQueue('work');
      const lock = new Mutex('queue lock');
      const queue: number[] = [];
      let processed = 0;
      const worker = spawn('worker', async () => {
        for (;;) {
          await wq.waitEvent(() => queue.length > 0 || kthreadShouldStop());
          if (!drain && kthreadShouldStop()) return;
          await lock.lock();
          processed += queue.splice(0).length;
          lock.unlock();
          if (kthreadShouldStop() && queue.length === 0) return;
        }
      });
      const producer = spawn('producer', async () => {
        for (let i = 0; i < 2; i++) {
          await lock.lock();
          queue.push(i);
          lock.unlock();
          wq.wakeUp();
        }
      });
      await producer.join();
      await kthreadStop(worker);
      if (processed !== 2) throw new Error(`processed ${processed} of 2 items`);
    };
  }

  it('a draining worker processes every queued item before it stops, in every schedule', async () => {
    const res = await exploreOrThrow(workerScenario(true), { policy: 'dfs', preemptionBound: 2 });
    expect(res.exhausted).toBe(true);
  });

  it('a worker that exits as soon as it is asked to can drop queued items', async () => {
    const res = await explore(workerScenario(false), { policy: 'dfs', preemptionBound: 2 });
    expect((res.failure?.error as Error | undefined)?.message).toMatch(/processed [01] of 2 items/);
  });
});
