/**
 * Longer explorations than the test suite runs: the race scenarios of test/scenarios.ts with
 * a correct driver: bounded-exhaustive DFS (bound 2), random and PCT schedules. Prints runs and any failing schedule.
 *
 * Run: pnpm explore
 */
import { type ExploreOptions, explore } from '@hmmkit/runtime';
import { cowVsDma, munmapVsDma } from '../test/scenarios.js';

const RUNS = 3000;
const plans: Array<[string, () => Promise<void>, ExploreOptions]> = [
  ['munmap vs DMA, dfs bound 2', munmapVsDma('none'), { policy: 'dfs', preemptionBound: 2 }],
  ['munmap vs DMA, random', munmapVsDma('none'), { policy: 'random', seed: 7, runs: RUNS }],
  ['munmap vs DMA, pct d=3', munmapVsDma('none'), { policy: 'pct', seed: 7, runs: RUNS }],
  ['fork + COW vs DMA write, random', cowVsDma('none'), { policy: 'random', seed: 7, runs: RUNS }],
  ['fork + COW vs DMA write, pct d=3', cowVsDma('none'), { policy: 'pct', seed: 7, runs: RUNS }],
];
let failed = false;
for (const [name, scenario, opts] of plans) {
  const r = await explore(scenario, opts);
  console.log(
    `${name.padEnd(36)} ${r.runs} runs: ${r.failure ? `FAIL ${r.failure.replay}` : 'ok'}`,
  );
  if (r.failure) {
    console.log(String(r.failure.error));
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
