import { parseArgs } from 'node:util';
import { cliArgs, count } from './args.js';
import { selectFactories } from './contenders.js';
import { canMeasureHeap, loadAverage, setClock, setStat } from './measure.js';
import { printSize } from './report.js';
import { bestOf, type Options, runSize } from './run-size.js';

const { values } = parseArgs({
  args: cliArgs(),
  options: {
    sizes: { type: 'string', default: '1e3,1e4,1e5,1e6' },
    queries: { type: 'string', default: '100000' },
    mixed: { type: 'string', default: '100000' },
    'query-budget-ms': { type: 'string', default: '1000' },
    'mixed-budget-ms': { type: 'string', default: '1500' },
    sample: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    clock: { type: 'string', default: 'wall' },
    stat: { type: 'string', default: 'median' },
    only: { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    'usage: pnpm --filter @hmmkit/bench bench [-- --sizes 1e3,1e4,1e5,1e6] [--queries N]\n' +
      '  [--mixed N] [--query-budget-ms MS] [--mixed-budget-ms MS] [--sample N] [--seed N]\n' +
      '  [--repeat N]  (run each size N times, keep the best figure of each cell)\n' +
      '  [--clock wall|cpu] [--stat median|total]\n' +
      '  [--only NAME,...]  (ours plus the peers whose names contain one of these)',
  );
  process.exit(0);
}

const repeat = count('repeat', values.repeat);
if (values.clock !== 'wall' && values.clock !== 'cpu') {
  throw new RangeError(`--clock: expected wall or cpu, got ${values.clock}`);
}
setClock(values.clock);
if (values.stat !== 'median' && values.stat !== 'total') {
  throw new RangeError(`--stat: expected median or total, got ${values.stat}`);
}
setStat(values.stat);
const sizes = values.sizes.split(',').map((t) => count('sizes', t.trim()));
const options: Options = {
  queries: count('queries', values.queries),
  mixedOps: count('mixed', values.mixed),
  queryBudgetMs: count('query-budget-ms', values['query-budget-ms']),
  mixedBudgetMs: count('mixed-budget-ms', values['mixed-budget-ms']),
  sample: count('sample', values.sample),
  seed: count('seed', values.seed),
};

console.log('## Interval trees: @hmmkit/interval-tree against npm peers\n');
console.log(
  `node ${process.version}, ${values.clock} clock, ${values.stat} of 100-op chunks, best of ${repeat} run(s), ${options.queries} queries (budget ${options.queryBudgetMs} ms), ` +
    `${options.mixedOps} mixed ops (budget ${options.mixedBudgetMs} ms), seed ${options.seed}`,
);
console.log(`load average at start: ${loadAverage()}`);
if (!canMeasureHeap) console.log('(no --expose-gc: retained heap not measured)');

const factories = selectFactories(values.only);

// Warm every structure's code paths before anything is timed.
// Twice, so that every adapter loop and library function reaches the
// optimising tier (a 100-op chunk loop is entered only n/100 times).
for (let i = 0; i < 2; i++)
  runSize(10_000, factories, { ...options, queries: 10_000, mixedOps: 10_000 });

for (const n of sizes) {
  let rows = runSize(n, factories, options);
  for (let r = 1; r < repeat; r++) rows = bestOf(rows, runSize(n, factories, options));
  printSize(n, rows, options.sample, canMeasureHeap);
}
console.log(`\nload average at end: ${loadAverage()}`);
