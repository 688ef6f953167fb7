/**
 * Runtime benchmarks (never run by `pnpm test`):
 *  1. explorer throughput: schedules per second for 3 tasks x ~20 scheduling points,
 *     under each policy (target: >= 20,000 schedules/s);
 *  2. default FIFO scheduler overhead on a lock-heavy loop, against the same loop on
 *     plain async code with a trivial promise-based mutex (target: < 10% slower).
 * Wall time and process CPU time are both printed: CPU time is less disturbed when
 * other jobs share the cores. Run: pnpm bench (from packages/runtime).
 */
import {
  type ExploreOptions,
  explore,
  Mutex,
  resetRuntime,
  schedulePoint,
  spawn,
} from '../src/index.js';

const now = (): number => performance.now();
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Three tasks, each ten rounds of mutex lock + cond_resched: ~20 scheduling points per task. */
async function threeTasks(): Promise<void> {
  const m = new Mutex('bench');
  const shared = { n: 0 };
  const body = async () => {
    for (let i = 0; i < 10; i++) {
      await m.lock();
      shared.n++;
      m.unlock();
      await schedulePoint();
    }
  };
  const ts = [spawn('a', body), spawn('b', body), spawn('c', body)];
  for (const t of ts) await t.join();
  if (shared.n !== 30) throw new Error('lost update');
}

async function explorerRate(opts: ExploreOptions, runs: number): Promise<[number, number]> {
  await explore(threeTasks, { ...opts, runs: 2000 });
  const t0 = now();
  const c0 = cpu();
  const res = await explore(threeTasks, { ...opts, runs });
  const wall = now() - t0;
  const cpuMs = cpu() - c0;
  if (res.failure) throw res.failure.error;
  return [(res.runs / wall) * 1000, (res.runs / cpuMs) * 1000];
}

/** The naive baseline: a FIFO promise mutex with no owner, no checks, no lockdep. */
class PromiseMutex {
  #locked = false;
  readonly #queue: Array<() => void> = [];
  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }
  unlock(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#locked = false;
  }
}

const OPS = 600_000;

async function plainLoop(tasks: number): Promise<number> {
  const iter = OPS / tasks;
  const m = new PromiseMutex();
  let n = 0;
  const body = async () => {
    for (let i = 0; i < iter; i++) {
      await m.lock();
      n++;
      m.unlock();
    }
  };
  const c0 = cpu();
  await Promise.all(Array.from({ length: tasks }, body));
  const dt = cpu() - c0;
  if (n !== OPS) throw new Error('lost update');
  return dt;
}

async function runtimeLoop(tasks: number): Promise<number> {
  const iter = OPS / tasks;
  resetRuntime();
  const m = new Mutex('fifo-bench');
  let n = 0;
  const body = async () => {
    for (let i = 0; i < iter; i++) {
      await m.lock();
      n++;
      m.unlock();
    }
  };
  const c0 = cpu();
  const ts = Array.from({ length: tasks }, (_, i) => spawn(`t${i}`, body));
  await Promise.all(ts.map((t) => t.join()));
  const dt = cpu() - c0;
  if (n !== OPS) throw new Error('lost update');
  return dt;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}`);
  console.log('\nexplorer: 3 tasks x 10 x (mutex lock/unlock + schedulePoint), 20,000 runs');
  console.log('| policy | schedules/s (wall) | schedules/s (CPU time) | wall vs target 20,000 |');
  console.log('| --- | ---: | ---: | ---: |');
  const policies: Array<[string, ExploreOptions]> = [
    ['random', { policy: 'random', seed: 1 }],
    ['pct (d=3)', { policy: 'pct', seed: 1 }],
    ['dfs (bound 2)', { policy: 'dfs', preemptionBound: 2 }],
  ];
  for (const [label, opts] of policies) {
    const [wall, cpuRate] = await explorerRate(opts, 20_000);
    console.log(`| ${label} | ${fmt(wall)} | ${fmt(cpuRate)} | ${(wall / 20_000).toFixed(2)}x |`);
  }

  console.log(`\nFIFO lock-heavy loop: ${fmt(OPS)} mutex lock/unlock pairs in total`);
  console.log('| loop | tasks | CPU ms (best of 11) | lock+unlock/s | ratio to plain |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const tasks of [1, 3]) {
    const plain: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < 11; i++) {
      plain.push(await plainLoop(tasks));
      ours.push(await runtimeLoop(tasks));
    }
    const p = Math.min(...plain);
    const r = Math.min(...ours);
    console.log(
      `| plain async + promise mutex | ${tasks} | ${p.toFixed(1)} | ${fmt((OPS / p) * 1000)} | 1.00 |`,
    );
    console.log(
      `| runtime Mutex, FIFO scheduler | ${tasks} | ${r.toFixed(1)} | ${fmt((OPS / r) * 1000)} | ${(r / p).toFixed(2)} |`,
    );
  }
}

await main();
