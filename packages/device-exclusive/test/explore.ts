/**
 * Longer explorations than `pnpm test` runs: every safe scenario under bounded-exhaustive DFS
 * with three preemptions and under PCT with random seeds. Prints runs and any failure with
 * its replay line; exits non-zero on a failure.
 * Run: pnpm explore (node --conditions=@hmmkit/source --import tsx test/explore.ts)
 */
import { type ExploreOptions, explore } from '@hmmkit/runtime';
import { SAFE_SCENARIOS } from './scenarios.js';

const POLICIES: ExploreOptions[] = [
  { policy: 'dfs', preemptionBound: 3 },
  { policy: 'pct', depth: 3, seed: 1, runs: 2000 },
  { policy: 'random', seed: 7, runs: 2000 },
];

let failed = false;
for (const [name, scenario] of Object.entries(SAFE_SCENARIOS)) {
  for (const opts of POLICIES) {
    const t = performance.now();
    const res = await explore(scenario, opts);
    const ms = (performance.now() - t).toFixed(0);
    const tag = `${name} ${JSON.stringify(opts)}`;
    if (res.failure) {
      failed = true;
      console.log(`FAIL ${tag}: ${String(res.failure.error)}\n  ${res.failure.replay}`);
    } else
      console.log(`ok   ${tag}: ${res.runs} runs${res.exhausted ? ' (exhausted)' : ''}, ${ms} ms`);
  }
}
process.exitCode = failed ? 1 : 0;
