import { explore, replay } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { cowVsDma, munmapVsDma } from './scenarios.js';

const DFS2 = { policy: 'dfs', preemptionBound: 2 } as const;

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
