import { explore, replay } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { scenarios } from '../src/scenarios/index.js';

const DFS2 = { policy: 'dfs', preemptionBound: 2 } as const;

describe('built-in scenarios under the explorer', () => {
  for (const s of [...scenarios.values()].filter((x) => x.expect === 'pass')) {
    it(`${s.name} runs to completion under the default scheduler`, async () => {
      await expect(s.run()).resolves.toBeUndefined();
    });
  }

  it('mirror-vs-migration never leaves a stale translation (DFS, preemption bound 2, exhausted)', async () => {
    const res = await explore(scenarios.get('mirror-vs-migration')!.run, DFS2);
    expect(res.failure?.replay).toBeUndefined();
    expect(res.exhausted).toBe(true);
  });

  it('valid-flag-vs-migration is caught with a replayable stale translation', async () => {
    const s = scenarios.get('valid-flag-vs-migration')!;
    const res = await explore(s.run, DFS2);
    expect(res.failure, `no failure in ${res.runs} runs`).toBeDefined();
    expect(String(res.failure!.error)).toMatch(/stale device translation/);
    await expect(replay(res.failure!.schedule, s.run)).rejects.toThrow(/stale device translation/);
  });
});
