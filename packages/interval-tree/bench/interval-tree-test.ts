/*
 * A port of the kernel's lib/interval_tree_test.c module: same parameters
 * (module_param names, defaults), same PRNG (prandom_seed_state +
 * prandom_u32_state, bit-exact), same draws, same three checks and the same
 * output lines. The kernel prints get_cycles() deltas; this prints
 * nanoseconds. The naive list of test/ runs the same search loop for the
 * ratio line.
 *
 *   pnpm bench [-- --nnodes 100 --perf_loops 1000 --nsearches 100
 *               --search_loops 1000 --search_all --max_endpoint N --seed N]
 */
import { parseArgs } from 'node:util';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { NaiveIntervalList } from '../test/naive-interval-list.js';
import { Prandom } from './prandom.js';

const argv = process.argv.slice(2);
const { values: p } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    nnodes: { type: 'string', default: '100' },
    perf_loops: { type: 'string', default: '1000' },
    nsearches: { type: 'string', default: '100' },
    search_loops: { type: 'string', default: '1000' },
    search_all: { type: 'boolean', default: false },
    max_endpoint: { type: 'string', default: String(0xffff_ffff) },
    seed: { type: 'string', default: '3141592653589793238' },
  },
});

const nnodes = Number(p.nnodes);
const perfLoops = Number(p.perf_loops);
const nsearches = Number(p.nsearches);
const searchLoops = Number(p.search_loops);
const maxEndpoint = Number(p.max_endpoint) >>> 0; // uint, as the module parameter
/** ULONG_MAX in the kernel's whole-range query; our bounds stop at 2^53 - 1. */
const WHOLE_RANGE_LAST = Number.MAX_SAFE_INTEGER;

const starts = new Float64Array(nnodes);
const lasts = new Float64Array(nnodes);
const queries = new Float64Array(nsearches);

/** init(): the kernel draws b first, then a = rand % b, then the point queries. */
function init(rnd: Prandom): void {
  for (let i = 0; i < nnodes; i++) {
    const b = (rnd.u32() >>> 4) % maxEndpoint;
    // The kernel divides by b unguarded; b is 0 about once in 2^28 draws.
    const a = b === 0 ? 0 : (rnd.u32() >>> 4) % b;
    starts[i] = a;
    lasts[i] = b;
  }
  for (let i = 0; i < nsearches; i++) queries[i] = (rnd.u32() >>> 4) % maxEndpoint;
}

function search(tree: IntervalTree<number>, start: number, last: number): number {
  let results = 0;
  for (let n = tree.iterFirst(start, last); n; n = tree.iterNext(n, start, last)) results++;
  return results;
}

function insertAll(tree: IntervalTree<number>, nodes: IntervalNode<number>[]): void {
  for (let j = 0; j < nnodes; j++) nodes[j] = tree.insert(starts[j]!, lasts[j]!, j);
}

function removeAll(tree: IntervalTree<number>, nodes: IntervalNode<number>[]): void {
  for (let j = 0; j < nnodes; j++) tree.remove(nodes[j]!);
}

function basicCheck(rnd: Prandom, quiet: boolean): void {
  const tree = new IntervalTree<number>();
  const nodes: IntervalNode<number>[] = [];
  init(rnd);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perfLoops; i++) {
    insertAll(tree, nodes);
    removeAll(tree, nodes);
  }
  const ns = Number(process.hrtime.bigint() - t0) / perfLoops;
  if (!quiet) console.log(`interval tree insert/remove -> ${ns.toFixed(0)} ns`);
}

/** The search loop; returns [ns per search_loops round, results per round]. */
function timedSearch(count: (start: number, last: number) => number): [number, number] {
  let results = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < searchLoops; i++) {
    for (let j = 0; j < nsearches; j++) {
      const start = p.search_all ? 0 : queries[j]!;
      const last = p.search_all ? maxEndpoint : queries[j]!;
      results += count(start, last);
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / searchLoops;
  return [ns, Math.floor(results / searchLoops)];
}

function searchCheck(rnd: Prandom, quiet: boolean): void {
  const tree = new IntervalTree<number>();
  const naive = new NaiveIntervalList<number>();
  const nodes: IntervalNode<number>[] = [];
  init(rnd);
  insertAll(tree, nodes);
  for (let j = 0; j < nnodes; j++) naive.insert(starts[j]!, lasts[j]!, j);
  const [ns, results] = timedSearch((s, l) => search(tree, s, l));
  const [naiveNs, naiveResults] = timedSearch((s, l) => naive.countOverlapping(s, l));
  if (quiet) return;
  console.log(`interval tree search -> ${ns.toFixed(0)} ns (${results} results)`);
  const perSec = (nsearches * 1e9) / ns;
  console.log(
    `  ${(perSec / 1e6).toFixed(2)}M searches/s; naive list scan ${naiveNs.toFixed(0)} ns ` +
      `(${naiveResults} results): tree / naive = ${(naiveNs / ns).toFixed(2)}x`,
  );
}

/** intersection_range_check(): every iteration must hit exactly the brute-force set. */
function intersectionRangeCheck(rnd: Prandom, quiet: boolean): number {
  if (!quiet) console.log('interval tree iteration');
  let mismatches = 0;
  const seen = new Uint8Array(nnodes);
  for (let i = 0; i < searchLoops; i++) {
    const tree = new IntervalTree<number>();
    const nodes: IntervalNode<number>[] = [];
    init(rnd);
    insertAll(tree, nodes);
    for (let k = 0; k < nsearches; k++) {
      let start = 0;
      let last = WHOLE_RANGE_LAST;
      if (k > 0) {
        last = (rnd.u32() >>> 4) % maxEndpoint;
        start = last === 0 ? 0 : (rnd.u32() >>> 4) % last;
      }
      seen.fill(0);
      for (let n = tree.iterFirst(start, last); n; n = tree.iterNext(n, start, last))
        seen[n.value] = 1;
      for (let j = 0; j < nnodes; j++) {
        const hit = start <= lasts[j]! && last >= starts[j]! ? 1 : 0;
        if (hit !== seen[j]) mismatches++;
      }
    }
  }
  if (!quiet && mismatches > 0) console.log(`WARNING: ${mismatches} intersection mismatches`);
  return mismatches;
}

function run(quiet: boolean): number {
  // prandom_seed_state() once, then each check draws on from where the last stopped.
  const rnd = Prandom.seedState(BigInt(p.seed));
  basicCheck(rnd, quiet);
  searchCheck(rnd, quiet);
  return intersectionRangeCheck(rnd, quiet);
}

run(true); // JIT warm-up (not in the kernel module): compile before timing
const mismatches = run(false);
console.log('test exit');
process.exitCode = mismatches === 0 ? 0 : 1;
