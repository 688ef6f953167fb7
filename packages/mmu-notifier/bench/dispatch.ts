// Dispatch cost of a one-page invalidation (start + end, blockable, a callback that calls
// setSeq) against n interval subscriptions, compared in the same run with the linear-list
// dispatcher that pre-interval-notifier drivers used (one classic notifier walking its own
// list of userptr objects on every invalidation). Also the uncontended readBegin/readRetry.
//
//   pnpm bench            (node --conditions=@hmmkit/source --import tsx bench/dispatch.ts)
//   BENCH_SIZES=1000,10000 pnpm bench

import {
  type MmuIntervalNotifierOps,
  MmuNotifierEvent,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  mmuNotifierRangeInit,
} from '@hmmkit/mmu-notifier';
import { LockdepMap, Prng, SpinLock } from '@hmmkit/runtime';

const PAGE = 4096;

/**
 * CPU time of this process in ns (user + system). The machine is shared (2 cores), so wall
 * time would count the time other processes hold the CPU; CPU time does not.
 */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}
const POOL = 1024; // prebuilt ranges, cycled: no allocation in the timed loop
const MIN_MS = 200;
const ROUNDS = 3;

const setSeqOps: MmuIntervalNotifierOps = {
  invalidate(sub, _range, cur) {
    sub.setSeq(cur);
    return true;
  },
};

/** One driver object of the linear-list era: its range, its sequence, its list_head. */
interface UserPtr {
  start: number;
  last: number;
  seq: number;
  next: UserPtr | undefined;
}

function ranges(subs: MmuNotifierSubscriptions, n: number, rng: Prng): MmuNotifierRange[] {
  const out: MmuNotifierRange[] = [];
  for (let i = 0; i < POOL; i++) {
    const page = rng.nextInt(n);
    out.push(
      mmuNotifierRangeInit(MmuNotifierEvent.CLEAR, 0, subs.mm, page * PAGE, (page + 1) * PAGE),
    );
  }
  return out;
}

async function treeSubs(n: number): Promise<MmuNotifierSubscriptions> {
  const subs = new MmuNotifierSubscriptions();
  await subs.mmapLock.downWrite();
  for (let i = 0; i < n; i++) subs.insertIntervalLocked(i * PAGE, PAGE, setSeqOps);
  subs.mmapLock.upWrite();
  return subs;
}

async function linearSubs(n: number): Promise<MmuNotifierSubscriptions> {
  const subs = new MmuNotifierSubscriptions();
  let head: UserPtr | undefined;
  for (let i = n - 1; i >= 0; i--)
    head = { start: i * PAGE, last: i * PAGE + PAGE - 1, seq: 1, next: head };
  await subs.register({
    // list_for_each_entry(): every object is visited on every invalidation.
    invalidateRangeStart(_sub, range) {
      const last = range.end - 1;
      for (let obj = head; obj; obj = obj.next) {
        if (obj.start <= last && range.start <= obj.last) obj.seq += 2;
      }
      return 0;
    },
  });
  return subs;
}

/** Nanoseconds per start+end pair. */
async function timeDispatch(
  subs: MmuNotifierSubscriptions,
  pool: MmuNotifierRange[],
): Promise<number> {
  let ops = 0;
  const t0 = cpuNs();
  let elapsed = 0;
  while (elapsed < MIN_MS * 1e6) {
    for (let i = 0; i < 64; i++) {
      const r = pool[ops++ & (POOL - 1)]!;
      await subs.invalidateRangeStart(r);
      await subs.invalidateRangeEnd(r);
    }
    elapsed = cpuNs() - t0;
  }
  return elapsed / ops;
}

/** The floor of any Promise-returning call: one await of an already-settled promise. */
async function timeBareAwait(): Promise<number> {
  const settled = Promise.resolve(1);
  const N = 1_000_000;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = cpuNs();
    for (let i = 0; i < N; i++) await settled;
    if (round > 0) best = Math.min(best, (cpuNs() - t0) / N);
  }
  return best;
}

async function timeRead(): Promise<{ begin: number; retry: number }> {
  const subs = new MmuNotifierSubscriptions();
  const sub = await subs.insertInterval(0, PAGE, setSeqOps);
  const N = 1_000_000;
  let seq = 0;
  let begin = Number.POSITIVE_INFINITY;
  let retry = Number.POSITIVE_INFINITY;
  let retries = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    let t0 = cpuNs();
    for (let i = 0; i < N; i++) seq = await sub.readBegin();
    if (round > 0) begin = Math.min(begin, (cpuNs() - t0) / N);
    t0 = cpuNs();
    for (let i = 0; i < N; i++) if (sub.readRetry(seq)) retries++;
    if (round > 0) retry = Math.min(retry, (cpuNs() - t0) / N);
  }
  if (retries !== 0) throw new Error('uncontended readRetry reported a collision');
  return { begin, retry };
}

/** The runtime primitives a one-page start+end must use: 2 spinlock and 2 lockdep-map pairs. */
function timePrimitives(): number {
  const lock = new SpinLock('bench.lock');
  const map = new LockdepMap('bench.map');
  const N = 1_000_000;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = cpuNs();
    for (let i = 0; i < N; i++) {
      map.acquire();
      lock.lock();
      lock.unlock();
      map.release();
    }
    if (round > 0) best = Math.min(best, (2 * (cpuNs() - t0)) / N);
  }
  return best;
}

const fmt = (ns: number) =>
  ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(0)} ns`;
const opsPerSec = (ns: number) => Math.round(1e9 / ns).toLocaleString('en-US');

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  // Warm-up: let the JIT settle on every path before the first measured size.
  const warm = await treeSubs(1000);
  await timeDispatch(warm, ranges(warm, 1000, new Prng(1)));
  const warmLinear = await linearSubs(1000);
  await timeDispatch(warmLinear, ranges(warmLinear, 1000, new Prng(1)));
  console.log('| n | interval tree: ns/op | ops/s | linear list: ns/op | ops/s | tree speedup |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const n of sizes) {
    const tree = await treeSubs(n);
    const treeNs = await timeDispatch(tree, ranges(tree, n, new Prng(n)));
    const linear = await linearSubs(n);
    const linNs = await timeDispatch(linear, ranges(linear, n, new Prng(n)));
    console.log(
      `| ${n.toLocaleString('en-US')} | ${fmt(treeNs)} | ${opsPerSec(treeNs)} | ${fmt(linNs)} | ${opsPerSec(linNs)} | ${(linNs / treeNs).toFixed(0)}× |`,
    );
  }
  const { begin, retry } = await timeRead();
  console.log('');
  console.log(
    `runtime floor per start+end (2 SpinLock + 2 LockdepMap pairs): ${timePrimitives().toFixed(0)} ns`,
  );
  console.log('');
  console.log('| uncontended read side | ns/op | ops/s |');
  console.log('|---|---:|---:|');
  console.log(`| await readBegin() | ${begin.toFixed(1)} | ${opsPerSec(begin)} |`);
  const bare = await timeBareAwait();
  console.log(
    `| (reference) await of a settled promise | ${bare.toFixed(1)} | ${opsPerSec(bare)} |`,
  );
  console.log(`| readRetry(seq) | ${retry.toFixed(1)} | ${opsPerSec(retry)} |`);
}

await main();
