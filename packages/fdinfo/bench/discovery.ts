/*
 * Discovery and refresh cost of DrmClientScanner against the naive scanner, in the same run.
 *
 *   real /proc:  550 idle `sleep` children of this process, each holding N extra fds
 *                (this machine has no GPU: the walk over fd dirs and links is what is timed)
 *   synthetic:   550 processes x N fds under /dev/shm, with DRM clients from DRIVER_SAMPLES
 *
 * cold  = a fresh scanner (no cache), as scanClients() does: one full walk.
 * warm  = one long-lived scanner's discover() (cache on), passes spaced > 2 s on /proc;
 *         every 10th pass is a full walk, so a last column amortises it: (9 warm + 1 cold) / 10.
 * Run: pnpm bench   (or: node --conditions=@hmmkit/source --import tsx bench/discovery.ts)
 * Env: FDINFO_BENCH_SIZES=10,50,200  FDINFO_BENCH_CLOCK=wall|cpu
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { DrmClientScanner, generateProcesses, writeSyntheticProcfs } from '@hmmkit/fdinfo';
import { naiveRefresh, naiveScan } from './naive-scanner.js';

const PROCS = 550;
const SIZES = (process.env.FDINFO_BENCH_SIZES ?? '10,50,200').split(',').map(Number);
const ROUNDS = 5;

/**
 * FDINFO_BENCH_CLOCK=cpu times this process's CPU (user + system, process.cpuUsage)
 * instead of the wall clock: on a machine shared with other jobs, waiting for a CPU
 * then does not count.
 */
const CLOCK = process.env.FDINFO_BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';

function now(): number {
  if (CLOCK === 'wall') return Number(process.hrtime.bigint()) / 1e6;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

function ms(fn: () => unknown, reps = 1): number {
  const t = now();
  for (let i = 0; i < reps; i++) fn();
  return (now() - t) / reps;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  tree: string;
  fds: number;
  naive: number;
  cold: number;
  warm: number;
  clients: number;
}

const QUIET_MS = 2100;
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/**
 * Alternates naive / cold / warm over ROUNDS and keeps the medians. Warm passes are
 * spaced by more than 2 s, as a periodic discovery is (on procfs that lets the
 * validator skip /proc/<pid>/stat, see pid-validator.ts); the wait is not timed.
 */
async function measure(tree: string, fds: number, root: string, spaced: boolean): Promise<Row> {
  const warmScanner = new DrmClientScanner({ procRoot: root });
  warmScanner.discover();
  let lastWarm = Date.now();
  const naive: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  let clients = 0;
  for (let r = 0; r < ROUNDS; r++) {
    naive.push(ms(() => naiveScan(root)));
    cold.push(
      ms(
        () => (clients = new DrmClientScanner({ procRoot: root, cache: false }).discover().length),
      ),
    );
    if (spaced) await sleep(Math.max(0, QUIET_MS - (Date.now() - lastWarm)));
    warm.push(ms(() => warmScanner.discover()));
    lastWarm = Date.now();
    if (warmScanner.stats.clients !== clients) throw new Error('warm and cold scans disagree');
  }
  return { tree, fds, naive: median(naive), cold: median(cold), warm: median(warm), clients };
}

async function spawnIdle(n: number, extraFds: number): Promise<ChildProcess[]> {
  const fds: number[] = [];
  for (let i = 0; i < extraFds; i++) fds.push(fs.openSync('/dev/null', 'r'));
  const kids: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++)
      kids.push(spawn('sleep', ['3600'], { stdio: ['ignore', 'ignore', 'ignore', ...fds] }));
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  await new Promise((r) => setTimeout(r, 1000));
  return kids;
}

function killAll(kids: readonly ChildProcess[]): void {
  for (const k of kids) {
    if (k.pid !== undefined && k.exitCode === null) {
      try {
        process.kill(k.pid, 'SIGKILL');
      } catch {}
    }
  }
}

async function realProc(rows: Row[]): Promise<void> {
  for (const n of SIZES) {
    const kids = await spawnIdle(PROCS, n);
    const stop = () => killAll(kids);
    process.once('SIGINT', stop);
    try {
      rows.push(await measure('real /proc', n, '/proc', true));
    } finally {
      stop();
      process.off('SIGINT', stop);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function synthetic(rows: Row[], refresh: string[]): Promise<void> {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
  for (const n of SIZES) {
    const root = fs.mkdtempSync(`${base}/fdinfo-bench-`);
    try {
      writeSyntheticProcfs(
        root,
        generateProcesses({ seed: n, processes: PROCS, fdsPerProcess: n, drmClients: 60 }),
      );
      await sleep(200); // age the tree past the racy-timestamp window
      rows.push(await measure('synthetic tmpfs', n, root, false));
      if (n === SIZES[0]) refresh.push(...refreshRow(root));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
}

/** Refresh of the known DRM fdinfo files: static files, then files rewritten before each refresh. */
function refreshRow(root: string): string[] {
  const scanner = new DrmClientScanner({ procRoot: root });
  scanner.discover();
  const paths = naiveScan(root).map((c) => `${root}/${c.pid}/fdinfo/${c.fd}`);
  const texts = paths.map((p) => fs.readFileSync(p, 'utf8'));
  const staticRun = [ms(() => naiveRefresh(paths), 200), ms(() => scanner.refresh(), 200)] as const;
  const naive: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < 100; i++) {
    // every file changes between two refreshes, so every one is parsed again
    for (let k = 0; k < paths.length; k++) {
      fs.writeFileSync(paths[k]!, texts[k]!.replace(/^pos:.*$/m, `pos:\t${i}`));
    }
    (i % 2 ? naive : ours).push(
      i % 2 ? ms(() => naiveRefresh(paths)) : ms(() => scanner.refresh()),
    );
  }
  const changing = [median(naive), median(ours)] as const;
  const label = `${paths.length} known DRM fdinfo files (${scanner.stats.clients} clients)`;
  const row = (what: string, [a, b]: readonly [number, number]) =>
    `| refresh, ${label}, ${what} | ${a.toFixed(3)} | ${b.toFixed(3)} (${(a / b).toFixed(2)}x) | < 1 ms |`;
  return [row('unchanged files', staticRun), row('every file changed', changing)];
}

function cell(naive: number, ours: number): string {
  return `${ours.toFixed(2)} (${(naive / ours).toFixed(2)}x)`;
}

function table(rows: Row[], refresh: string[]): string {
  const lines = [
    '| tree | fds/proc | naive ms | cold discover ms (ratio) | warm discover ms (ratio) | warm with 1 full pass in 10, ms (ratio) | clients |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.tree} | ${r.fds} | ${r.naive.toFixed(2)} | ${cell(r.naive, r.cold)} | ${cell(r.naive, r.warm)} | ${cell(r.naive, (9 * r.warm + r.cold) / 10)} | ${r.clients} |`,
    );
  }
  lines.push(
    '',
    '| operation | naive ms | DrmClientScanner ms (ratio) | target |',
    '| --- | ---: | ---: | --- |',
    ...refresh,
  );
  return lines.join('\n');
}

const rows: Row[] = [];
const refresh: string[] = [];
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(
  `node ${process.version}, ${os.cpus().length} CPUs, ${PROCS} processes, sizes ${SIZES.join('/')} fds, median of ${ROUNDS} rounds, ${CLOCK} clock, load average ${load()}`,
);
await realProc(rows);
await synthetic(rows, refresh);
console.log(table(rows, refresh));
console.log(`load average at the end: ${load()}`);
