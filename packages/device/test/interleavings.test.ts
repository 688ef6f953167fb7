import { explore, replay } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { cowVsDma, munmapVsDma } from './scenarios.js';

// Bound 1 keeps the suite fast; `pnpm explore` runs bound 2 exhaustively.
const DFS1 = { policy: 'dfs', preemptionBound: 1 } as const;

describe('CPU munmap racing a device DMA', () => {
  it('a driver that invalidates and flushes in its interval notifier is never stale (DFS, bound 1)', async () => {
    const result = await explore(munmapVsDma('none'), DFS1);
    expect(result.failure?.replay).toBeUndefined();
    expect(result.exhausted).toBe(true);
    expect(result.runs).toBeGreaterThan(1);
  });

  it('a driver that forgets the TLB flush is caught by the explorer, and the schedule replays', async () => {
    const scenario = munmapVsDma('no-flush');
    const result = await explore(scenario, DFS1);
    const failure = result.failure;
    if (!failure) throw new Error(`the explorer missed the stale access in ${result.runs} runs`);
    expect(String(failure.error), failure.replay).toMatch(/stale device translation/);
    await expect(replay(failure.schedule, scenario)).rejects.toThrow(/stale device translation/);
  });
});

describe('a stale access that is caught and ignored', () => {
  it('still fails the explorer run, because the device reports it to the runtime', async () => {
    const scenario = munmapVsDma('no-flush');
    const swallowing = async (): Promise<void> => {
      try {
        await scenario();
      } catch {
        // a careless driver carries on after the device's error
      }
    };
    const result = await explore(swallowing, DFS1);
    expect(String(result.failure?.error)).toMatch(/stale device translation/);
  });
});

describe('fork and a COW break racing a device write', () => {
  it('a driver that invalidates on PROTECTION_PAGE is never stale (PCT, 150 schedules)', async () => {
    const result = await explore(cowVsDma('none'), { policy: 'pct', seed: 1, runs: 150 });
    expect(result.failure?.replay).toBeUndefined();
    expect(result.runs).toBe(150);
  });

  it('a driver that ignores invalidations writes into the page the child shares, and is caught', async () => {
    const result = await explore(cowVsDma('no-invalidate'), { policy: 'pct', seed: 1, runs: 150 });
    expect(String(result.failure?.error)).toMatch(/stale device translation/);
  });
});
