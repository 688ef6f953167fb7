import { MAP_ANONYMOUS, MAP_PRIVATE, Mm, PAGE_SIZE, PhysicalMemory } from '@hmmkit/mm';
import { explore, isKernelError, replay, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { Device } from '../src/index.js';
import { type DriverBug, MirrorDriver } from './mirror-driver.js';

const DFS2 = { policy: 'dfs', preemptionBound: 2 } as const;

/**
 * CPU munmap racing a device DMA over two pages that the device already mirrors. The DMA
 * must return the bytes the process wrote or fail with EFAULT (the range is gone); a stale
 * translation fails the schedule.
 */
function munmapVsDma(bug: DriverBug) {
  return async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const addr = await mm.mmap(2 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(addr, new Uint8Array(2 * PAGE_SIZE).fill(7));
    const device = new Device(memory);
    const { ctx } = await MirrorDriver.open(device, mm, bug);
    await ctx.dmaRead(addr, PAGE_SIZE);
    const cpu = spawn('cpu', () => mm.munmap(addr, 2 * PAGE_SIZE));
    const gpu = spawn('gpu', async () => {
      try {
        const data = await ctx.dmaRead(addr, 2 * PAGE_SIZE);
        if (data.some((b) => b !== 7)) throw new Error('device read bytes the process never wrote');
      } catch (e) {
        if (!isKernelError(e, 'EFAULT')) throw e;
      }
    });
    await cpu.join();
    await gpu.join();
  };
}

describe('CPU munmap racing a device DMA', () => {
  it('a driver that invalidates and flushes in its interval notifier is never stale (DFS, bound 2)', async () => {
    const result = await explore(munmapVsDma('none'), DFS2);
    expect(result.failure?.replay).toBeUndefined();
    expect(result.exhausted).toBe(true);
    expect(result.runs).toBeGreaterThan(1);
  });

  it('a driver that forgets the TLB flush is caught by the explorer, and the schedule replays', async () => {
    const scenario = munmapVsDma('no-flush');
    const result = await explore(scenario, DFS2);
    const failure = result.failure;
    if (!failure) throw new Error(`the explorer missed the stale access in ${result.runs} runs`);
    expect(String(failure.error), failure.replay).toMatch(/stale device translation/);
    await expect(replay(failure.schedule, scenario)).rejects.toThrow(/stale device translation/);
  });
});

/** fork + a parent write (COW break) racing a device write through a mirrored page. */
function cowVsDma(bug: DriverBug) {
  return async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const addr = await mm.mmap(PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(addr, new Uint8Array([1]));
    const device = new Device(memory);
    const { ctx } = await MirrorDriver.open(device, mm, bug);
    await ctx.dmaWrite(addr, new Uint8Array([2]));
    const cpu = spawn('cpu', async () => {
      const child = await mm.fork();
      await mm.write(addr + 1, new Uint8Array([3]));
      const seen = (await child.read(addr, 1))[0];
      if (seen !== 2 && seen !== 4) throw new Error(`child sees ${seen}`);
    });
    const gpu = spawn('gpu', () => ctx.dmaWrite(addr, new Uint8Array([4])));
    await cpu.join();
    await gpu.join();
  };
}

describe('fork and a COW break racing a device write', () => {
  it('a driver that invalidates on PROTECTION_PAGE is never stale (PCT, 300 schedules)', async () => {
    const result = await explore(cowVsDma('none'), { policy: 'pct', seed: 1, runs: 300 });
    expect(result.failure?.replay).toBeUndefined();
    expect(result.runs).toBe(300);
  });

  it('a driver that ignores invalidations writes into the page the child shares, and is caught', async () => {
    const result = await explore(cowVsDma('no-invalidate'), { policy: 'pct', seed: 1, runs: 300 });
    expect(String(result.failure?.error)).toMatch(/stale device translation/);
  });
});
