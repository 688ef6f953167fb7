/**
 * Long explorations of the bug catalogue (test/fixtures), outside `pnpm test`:
 * every broken program under each policy with a larger budget, and every correct one
 * exhaustively at preemption bound 3. Run: pnpm explore (from packages/runtime).
 */
import { type ExploreOptions, explore } from '../src/index.js';
import { catalogue } from '../test/fixtures/catalogue.js';

const now = (): number => performance.now();

async function main(): Promise<void> {
  const budgets: ExploreOptions[] = [
    { policy: 'dfs', preemptionBound: 3 },
    { policy: 'pct', seed: 1, runs: 20_000, depth: 3 },
    { policy: 'random', seed: 1, runs: 20_000 },
  ];
  console.log('| program | policy | runs to failure | shrunk schedule | failure |');
  console.log('| --- | --- | ---: | --- | --- |');
  for (const f of catalogue) {
    for (const opts of budgets) {
      const res = await explore(f.broken, opts);
      const e = res.failure?.error;
      const what = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 60) : 'none found';
      console.log(
        `| ${f.name} | ${opts.policy} | ${res.runs} | ${res.failure?.schedule ?? '-'} | ${what} |`,
      );
    }
  }
  console.log('\n| correct program | dfs bound | runs | exhausted | ms |');
  console.log('| --- | ---: | ---: | --- | ---: |');
  for (const f of catalogue) {
    const t0 = now();
    const res = await explore(f.correct, { policy: 'dfs', preemptionBound: 3 });
    if (res.failure) throw new Error(`${f.name}: correct version failed: ${res.failure.replay}`);
    console.log(`| ${f.name} | 3 | ${res.runs} | ${res.exhausted} | ${(now() - t0).toFixed(0)} |`);
  }
}

await main();
