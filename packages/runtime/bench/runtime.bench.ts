/**
 * Runtime benchmarks (never run by `pnpm test`):
 *  1. explorer throughput: schedules per second for 3 tasks x ~20 scheduling points,
 *     under each policy (target: >= 20,000 schedules/s);
 *  2. default FIFO scheduler overhead on a lock-heavy loop, against the same loop on
 *     plain async code with a trivial promise-based mutex (target: < 10% slower).
 * Run: pnpm bench (from packages/runtime).
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

async function explorerRate(opts: ExploreOptions, runs: number): Promise<number> {
  await explore(threeTasks, { ...opts, runs: Math.min(200, runs) });
  const t0 = now();
  const res = await explore(threeTasks, { ...opts, runs });
  const dt = now() - t0;
  if (res.failure) throw res.failure.error;
  return (res.runs / dt) * 1000;
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

const ITER = 200_000;
const TASKS = 3;

async function plainLoop(): Promise<number> {
  const m = new PromiseMutex();
  let n = 0;
  const body = async () => {
    for (let i = 0; i < ITER; i++) {
      await m.lock();
      n++;
      m.unlock();
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: TASKS }, body));
  const dt = now() - t0;
  if (n !== ITER * TASKS) throw new Error('lost update');
  return dt;
}

async function runtimeLoop(): Promise<number> {
  resetRuntime();
  const m = new Mutex('fifo-bench');
  let n = 0;
  const body = async () => {
    for (let i = 0; i < ITER; i++) {
      await m.lock();
      n++;
      m.unlock();
    }
  };
  const t0 = now();
  const ts = Array.from({ length: TASKS }, (_, i) => spawn(`t${i}`, body));
  await Promise.all(ts.map((t) => t.join()));
  const dt = now() - t0;
  if (n !== ITER * TASKS) throw new Error('lost update');
  return dt;
}

function best(xs: number[]): number {
  return Math.min(...xs);
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}`);
  console.log('\nexplorer: 3 tasks x 10 x (mutex lock/unlock + schedulePoint)');
  console.log('| policy | schedules/s | vs target 20,000 |');
  console.log('| --- | ---: | ---: |');
  for (const [label, opts] of [
    ['random', { policy: 'random', seed: 1 }],
    ['pct (d=3)', { policy: 'pct', seed: 1 }],
    ['dfs (bound 2)', { policy: 'dfs', preemptionBound: 2 }],
  ] as Array<[string, ExploreOptions]>) {
    const rate = await explorerRate(opts, 20_000);
    console.log(
      `| ${label} | ${Math.round(rate).toLocaleString('en-US')} | ${(rate / 20_000).toFixed(2)}x |`,
    );
  }

  console.log(
    `\nFIFO lock-heavy loop: ${TASKS} tasks x ${ITER.toLocaleString('en-US')} lock/unlock`,
  );
  const plain: number[] = [];
  const rt: number[] = [];
  for (let i = 0; i < 7; i++) {
    plain.push(await plainLoop());
    rt.push(await runtimeLoop());
  }
  const ops = ITER * TASKS;
  const p = best(plain);
  const r = best(rt);
  console.log('| loop | ms (best of 7) | lock+unlock/s | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| plain async + promise mutex | ${p.toFixed(1)} | ${Math.round((ops / p) * 1000).toLocaleString('en-US')} | 1.00 |`,
  );
  console.log(
    `| runtime Mutex, FIFO scheduler | ${r.toFixed(1)} | ${Math.round((ops / r) * 1000).toLocaleString('en-US')} | ${(r / p).toFixed(2)} |`,
  );
  console.log(`FIFO overhead: ${(((r - p) / p) * 100).toFixed(1)}% (target < 10%)`);
}

await main();
