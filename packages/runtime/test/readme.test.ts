import { describe, expect, it } from 'vitest';
import { explore, Mutex, replay, resetRuntime, spawn } from '../src/index.js';

function lookupOrCreateScenario(withLock: boolean) {
  return async () => {
    const table = new Map<string, object>();
    const lock = new Mutex('table->lock');
    const slab = new Mutex('slab->lock');
    let created = 0;
    const kmalloc = async () => {
      await slab.lock(); // may sleep: a scheduling point
      slab.unlock();
      return {};
    };
    const lookupOrCreate = async () => {
      if (withLock) await lock.lock();
      if (!table.has('k')) {
        const obj = await kmalloc();
        created++;
        table.set('k', obj);
      }
      if (withLock) lock.unlock();
    };
    const a = spawn('a', lookupOrCreate);
    const b = spawn('b', lookupOrCreate);
    await a.join();
    await b.join();
    if (created !== 1) throw new Error(`created ${created} objects for one key`);
  };
}

describe('README examples', () => {
  it('the explorer finds the lookup-or-create race and prints the replay line shown', async () => {
    const scenario = lookupOrCreateScenario(false);
    const res = await explore(scenario, { policy: 'dfs', preemptionBound: 2 });
    expect(res.failure?.replay).toBe("replay('dfs:0:4>2', scenario)");
    await expect(replay('dfs:0:4>2', scenario)).rejects.toThrow('created 2 objects for one key');
  });

  it('the fixed version passes every schedule within the bound', async () => {
    const res = await explore(lookupOrCreateScenario(true), { policy: 'dfs', preemptionBound: 2 });
    expect(res).toEqual({ runs: 54, exhausted: true });
  });

  it('the FIFO example returns the task value', async () => {
    resetRuntime();
    const lock = new Mutex('dev->lock');
    const t = spawn('worker', async () => {
      await lock.lock();
      lock.unlock();
      return 42;
    });
    expect(await t.join()).toBe(42);
  });
});
