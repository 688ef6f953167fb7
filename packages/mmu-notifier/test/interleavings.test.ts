import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { explore, Mutex, replay, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { seqDriverScenario, twoCpuScenario, validFlagDriverScenario } from './driver-fixtures.js';
import { PAGE, rangeOf } from './helpers.js';

const DFS2 = { policy: 'dfs', preemptionBound: 2 } as const;

/** Interval ops whose callback sleeps on `lock` (a scheduling point inside the pass). */
function lockingOps(lock: Mutex, onCall: (cur: number) => void) {
  return {
    async invalidate(sub: { setSeq(c: number): void }, _r: unknown, cur: number) {
      await lock.lock();
      onCall(cur);
      sub.setSeq(cur);
      lock.unlock();
      return true;
    },
  };
}

describe('interleavings under the explorer', () => {
  it('a driver following read_begin / fault / lock / read_retry never programs a stale mapping (DFS, bound 2)', async () => {
    const result = await explore(seqDriverScenario, { ...DFS2, determinism: true });
    expect(result.failure?.replay).toBeUndefined();
    expect(result.exhausted).toBe(true);
    expect(result.runs).toBeGreaterThan(1);
  });

  it('the same driver stays coherent with a second CPU invalidating around it (PCT and random, seeded)', async () => {
    for (const policy of ['pct', 'random'] as const) {
      const result = await explore(twoCpuScenario, { policy, seed: 7, runs: 150, depth: 3 });
      expect(result.failure?.replay).toBeUndefined();
      expect(result.runs).toBe(150);
    }
  });

  it('the historical valid-flag driver programs a stale mapping under some schedule', async () => {
    const result = await explore(validFlagDriverScenario, DFS2);
    const failure = result.failure;
    if (!failure) throw new Error(`the explorer missed the stale mapping in ${result.runs} runs`);
    expect(String(failure.error), `replay: ${failure.replay}`).toMatch(/stale device mapping/);
    await expect(replay(failure.schedule, validFlagDriverScenario)).rejects.toThrow(
      /stale device mapping/,
    );
  });

  it("replays the valid-flag driver's stale mapping: replay('dfs:0:6>2', scenario)", async () => {
    await expect(replay('dfs:0:6>2', validFlagDriverScenario)).rejects.toThrow(
      /stale device mapping/,
    );
  });

  it('an insert during an invalidation is deferred and not called back for it (DFS, bound 2)', async () => {
    const seen = { frozen: 0, idle: 0 };
    const result = await explore(async () => {
      const subs = new MmuNotifierSubscriptions();
      const lock = new Mutex('drv');
      await subs.insertInterval(
        0,
        PAGE,
        lockingOps(lock, () => {}),
      );
      const late: number[] = [];
      let frozenAtInsert = false;
      const cpu = spawn('cpu', async () => {
        const r = rangeOf(subs, 0, PAGE);
        await subs.invalidateRangeStart(r);
        await subs.invalidateRangeEnd(r);
      });
      const inserter = spawn('inserter', async () => {
        await schedulePoint();
        const sub = await subs.insertInterval(
          0,
          PAGE,
          lockingOps(lock, (cur) => late.push(cur)),
        );
        frozenAtInsert = subs.invalidateSeq % 2 === 1;
        return sub;
      });
      await cpu.join();
      await inserter.join();
      if (frozenAtInsert && late.length !== 0)
        throw new Error(`deferred insert was called back: ${late}`);
      seen[frozenAtInsert ? 'frozen' : 'idle']++;
    }, DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(seen.frozen).toBeGreaterThan(0);
    expect(seen.idle).toBeGreaterThan(0);
  });

  it('readBegin blocks exactly while its subscription is under invalidation (DFS, bound 2)', async () => {
    const seen = { blocked: 0, free: 0 };
    const result = await explore(async () => {
      const subs = new MmuNotifierSubscriptions();
      const lock = new Mutex('drv');
      let busy = false;
      let ended = false;
      const sub = await subs.insertInterval(
        0,
        PAGE,
        lockingOps(lock, () => {}),
      );
      const cpu = spawn('cpu', async () => {
        const r = rangeOf(subs, 0, PAGE);
        await subs.invalidateRangeStart(r);
        busy = true;
        await schedulePoint();
        busy = false;
        await subs.invalidateRangeEnd(r);
        ended = true;
      });
      const reader = spawn('reader', async () => {
        await schedulePoint();
        const calledBusy = busy;
        const seq = await sub.readBegin();
        if (seq === subs.invalidateSeq)
          throw new Error('readBegin returned while its subscription is invalidated');
        if (calledBusy && !ended)
          throw new Error('readBegin returned before the invalidation ended');
        seen[calledBusy ? 'blocked' : 'free']++;
      });
      await cpu.join();
      await reader.join();
    }, DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(seen.blocked).toBeGreaterThan(0);
    expect(seen.free).toBeGreaterThan(0);
  });

  it('remove during an invalidation waits, and no callback runs after it returns (DFS, bound 2)', async () => {
    let waited = 0;
    const result = await explore(async () => {
      const subs = new MmuNotifierSubscriptions();
      const lock = new Mutex('drv');
      let removed = false;
      const sub = await subs.insertInterval(0, PAGE, {
        async invalidate(s, _r, cur) {
          await lock.lock();
          if (removed) throw new Error('callback after remove() returned');
          s.setSeq(cur);
          lock.unlock();
          return true;
        },
      });
      const cpu = spawn('cpu', async () => {
        for (let i = 0; i < 2; i++) {
          const r = rangeOf(subs, 0, PAGE);
          await subs.invalidateRangeStart(r);
          await schedulePoint();
          await subs.invalidateRangeEnd(r);
        }
      });
      const remover = spawn('remover', async () => {
        await schedulePoint();
        const frozen = subs.invalidateSeq % 2 === 1;
        await sub.remove();
        if (frozen) waited++;
        removed = true;
      });
      await cpu.join();
      await remover.join();
    }, DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(waited).toBeGreaterThan(0);
  });

  it('a non-blockable start that fails unwinds so the tree is idle again after both tasks (DFS, bound 2)', async () => {
    let refusals = 0;
    const result = await explore(async () => {
      const subs = new MmuNotifierSubscriptions();
      const lock = new Mutex('drv');
      const sub = await subs.insertInterval(0, PAGE, {
        invalidate(s, _range, cur) {
          if (!lock.trylock()) return false; // non-blockable: never sleep on the lock
          s.setSeq(cur);
          lock.unlock();
          return true;
        },
      });
      const oom = spawn('oom-reaper', async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const r = rangeOf(subs, 0, PAGE);
          if (subs.invalidateRangeStartNonblock(r) === 0) {
            await subs.invalidateRangeEnd(r);
            return;
          }
          refusals++;
          await schedulePoint();
        }
      });
      const driver = spawn('driver', async () => {
        await lock.lock();
        await schedulePoint();
        lock.unlock();
      });
      await oom.join();
      await driver.join();
      if (subs.activeInvalidateRanges !== 0 || subs.invalidateSeq % 2 !== 0) {
        throw new Error(`left active=${subs.activeInvalidateRanges} seq=${subs.invalidateSeq}`);
      }
      const seq = await sub.readBegin();
      if (sub.readRetry(seq)) throw new Error('reader sees a collision with nothing running');
    }, DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(refusals).toBeGreaterThan(0);
  });

  it('no classic callback runs after unregister() returns, whatever the schedule (DFS, bound 2)', async () => {
    let overlapped = 0;
    const result = await explore(async () => {
      const subs = new MmuNotifierSubscriptions();
      const lock = new Mutex('drv');
      let gone = false;
      let inside = 0;
      const n = await subs.register({
        async invalidateRangeStart() {
          if (gone) throw new Error('invalidateRangeStart after unregister() returned');
          inside++;
          await lock.lock();
          lock.unlock();
          inside--;
          return 0;
        },
        async invalidateRangeEnd() {
          if (gone) throw new Error('invalidateRangeEnd after unregister() returned');
        },
      });
      const cpu = spawn('cpu', async () => {
        for (let i = 0; i < 2; i++) {
          const r = rangeOf(subs, 0, PAGE);
          await subs.invalidateRangeStart(r);
          await schedulePoint();
          await subs.invalidateRangeEnd(r);
        }
      });
      const driver = spawn('driver', async () => {
        await schedulePoint();
        if (inside > 0) overlapped++;
        await n.unregister();
        if (inside > 0) throw new Error('unregister() returned while a callback was running');
        gone = true;
      });
      await cpu.join();
      await driver.join();
    }, DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(result.exhausted).toBe(true);
    expect(overlapped).toBeGreaterThan(0);
  });
});
