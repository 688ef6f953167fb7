/*
 * Whole-tree insert and remove, alternating between contenders round by
 * round in one process. main.ts times each contender's phases one after the
 * other, so a change in the machine's speed between two phases (frequent on
 * a shared machine, and large at small sizes) lands on one contender only;
 * here every contender sees the same stretch of time. Each round builds a
 * fresh structure of n intervals and removes them all; the figure is the
 * median over rounds of the time per operation.
 */
import { parseArgs } from 'node:util';
import { cliArgs, count } from './args.js';
import { selectFactories } from './contenders.js';
import { loadAverage, median } from './measure.js';
import type { Structure } from './structure.js';
import { makeWorkload, type Workload } from './workload.js';

const { values } = parseArgs({
  args: cliArgs(),
  options: {
    sizes: { type: 'string', default: '1e3,1e4' },
    rounds: { type: 'string', default: '' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string', default: '' },
  },
});
const seed = count('seed', values.seed);

interface Times {
  readonly name: string;
  readonly insert: number[];
  readonly remove: number[];
}

/** One round of one contender: a fresh structure, all n inserted, all n removed. */
function round(make: () => Structure, w: Workload, n: number, into: Times): void {
  const s = make();
  s.prepare?.(w);
  const t0 = performance.now();
  s.build(w, 0, n);
  const t1 = performance.now();
  s.remove!(w, 0, n);
  const t2 = performance.now();
  into.insert.push(((t1 - t0) / n) * 1e6);
  into.remove.push(((t2 - t1) / n) * 1e6);
}

function runSize(n: number, rounds: number, factories: (() => Structure)[]): Times[] {
  const w = makeWorkload({ n, queries: 1, mixedOps: 1, seed });
  const times = factories.map((make) => ({ name: make().name, insert: [], remove: [] }) as Times);
  const warmup = Math.ceil(rounds / 10);
  for (let r = 0; r < warmup + rounds; r++) {
    // Rotate who goes first, so that no contender always follows the same one.
    for (let k = 0; k < factories.length; k++) {
      const i = (r + k) % factories.length;
      const t = r < warmup ? { name: '', insert: [], remove: [] } : times[i]!;
      round(factories[i]!, w, n, t);
    }
  }
  return times;
}

function print(n: number, rounds: number, times: Times[]): void {
  console.log(`\n### n = ${n} (${rounds} rounds)\n`);
  console.log('| structure | insert ns/op | remove ns/op |');
  console.log('| --- | --- | --- |');
  for (const t of times) {
    console.log(`| ${t.name} | ${median(t.insert).toFixed(0)} | ${median(t.remove).toFixed(0)} |`);
  }
  const [ours, ...peers] = times;
  for (const phase of ['insert', 'remove'] as const) {
    const best = peers.reduce((a, b) => (median(b[phase]) < median(a[phase]) ? b : a));
    const ratio = median(best[phase]) / median(ours![phase]);
    console.log(`- ${phase}: ours / best peer (${best.name}) = ${ratio.toFixed(2)}x`);
  }
}

const factories = selectFactories(values.only).filter((make) => {
  const s = make();
  return s.kind === 'dynamic' && s.remove !== undefined;
});
if (factories.length < 2)
  throw new RangeError(`--only: no dynamic peer with remove in "${values.only}"`);
console.log('## Interval trees: whole-tree insert and remove, contenders alternating\n');
console.log(`node ${process.version}, median over rounds, seed ${seed}`);
console.log(`load average at start: ${loadAverage()}`);
for (const n of values.sizes.split(',').map((t) => count('sizes', t.trim()))) {
  const rounds =
    values.rounds === '' ? Math.max(20, Math.ceil(1e6 / n)) : count('rounds', values.rounds);
  print(n, rounds, runSize(n, rounds, factories));
}
console.log(`\nload average at end: ${loadAverage()}`);
