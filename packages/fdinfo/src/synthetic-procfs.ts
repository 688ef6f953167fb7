/*
 * A synthetic procfs tree for tests and benchmarks: <root>/<pid>/{comm,fd/<n>,fdinfo/<n>}.
 * fd entries are symlinks to the text procfs would show ('/dev/dri/renderD128',
 * 'socket:[123]', 'pipe:[45]', '/usr/lib/libc.so.6'); they dangle, which is why the
 * scanner detects DRM fds with readlink rather than stat (no character device here).
 */
import * as fs from 'node:fs';
import { DRIVER_SAMPLES, type DriverSampleName } from './driver-samples.js';

/** One fd of a synthetic process. */
export interface SyntheticFd {
  fd: number;
  /** The link target, as readlink on /proc/<pid>/fd/<n> returns it. */
  target: string;
  /** The fdinfo text; default a plain file's `pos/flags/mnt_id/ino`. */
  fdinfo?: string;
}

/** One synthetic process; a kernel thread has no fds. */
export interface SyntheticProcess {
  pid: number;
  comm: string;
  fds: SyntheticFd[];
}

/** Parameters of {@link generateProcesses}. */
export interface SyntheticTreeSpec {
  seed: number;
  processes: number;
  fdsPerProcess: number;
  /** DRM clients to spread over the processes (each in one owner, maybe dup'd / inherited). */
  drmClients: number;
  /** Kernel threads (no fds), default 0. */
  kernelThreads?: number;
  firstPid?: number;
}

const PLAIN_FDINFO = 'pos:\t0\nflags:\t02100002\nmnt_id:\t26\nino:\t1\n';
const SAMPLE_NAMES = Object.keys(DRIVER_SAMPLES) as DriverSampleName[];

/**
 * A sample's text with its drm-client-id replaced (or added after drm-driver).
 * @throws TypeError / RangeError on a non-string sample or an id that is not an integer >= 0.
 */
export function withClientId(sample: string, id: number): string {
  if (typeof sample !== 'string') throw new TypeError('withClientId: sample must be a string');
  if (!Number.isSafeInteger(id) || id < 0)
    throw new RangeError(`withClientId: bad id ${String(id)}`);
  if (/^drm-client-id:/m.test(sample))
    return sample.replace(/^drm-client-id:.*$/m, `drm-client-id:\t${id}`);
  return sample.replace(/^(drm-driver:.*)$/m, `$1\ndrm-client-id:\t${id}`);
}

/**
 * Writes the processes under `root` (created if missing; existing pid dirs are replaced).
 *
 * **Context**: synchronous file-system writes.
 * @throws TypeError on a bad argument; fs errors as thrown by node:fs.
 */
export function writeSyntheticProcfs(root: string, processes: readonly SyntheticProcess[]): void {
  if (typeof root !== 'string' || root === '')
    throw new TypeError(`writeSyntheticProcfs: bad root ${String(root)}`);
  if (!Array.isArray(processes as unknown))
    throw new TypeError('writeSyntheticProcfs: processes must be an array');
  fs.mkdirSync(root, { recursive: true });
  for (const p of processes) {
    const dir = `${root}/${p.pid}`;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(`${dir}/fd`, { recursive: true });
    fs.mkdirSync(`${dir}/fdinfo`);
    fs.writeFileSync(`${dir}/comm`, `${p.comm}\n`);
    for (const f of p.fds) {
      fs.symlinkSync(f.target, `${dir}/fd/${f.fd}`);
      fs.writeFileSync(`${dir}/fdinfo/${f.fd}`, f.fdinfo ?? PLAIN_FDINFO);
    }
  }
}

/** mulberry32: small seeded PRNG so that trees are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plainTarget(rnd: () => number, i: number): string {
  const kinds = [
    `socket:[${10000 + i}]`,
    `pipe:[${20000 + i}]`,
    '/dev/null',
    `/var/log/app-${i % 7}.log`,
    'anon_inode:[eventfd]',
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
  ];
  return kinds[Math.floor(rnd() * kinds.length)]!;
}

/**
 * A reproducible process list: plain fds (files, sockets, pipes), DRM clients from
 * DRIVER_SAMPLES on /dev/dri/renderD128 / card0, some dup'd inside their process and
 * some inherited by the next process at the same fd number, plus kernel threads.
 *
 * @throws RangeError on negative or non-integer counts.
 */
export function generateProcesses(spec: SyntheticTreeSpec): SyntheticProcess[] {
  if (typeof spec !== 'object' || spec === null)
    throw new TypeError('generateProcesses: spec must be an object');
  for (const k of [
    'seed',
    'processes',
    'fdsPerProcess',
    'drmClients',
    'kernelThreads',
    'firstPid',
  ] as const) {
    const v = spec[k];
    if (v === undefined && (k === 'kernelThreads' || k === 'firstPid')) continue;
    if (v === undefined || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`generateProcesses: ${k} must be an integer >= 0, got ${v}`);
    }
  }
  const rnd = prng(spec.seed);
  const first = spec.firstPid ?? 1000;
  const procs: SyntheticProcess[] = [];
  for (let i = 0; i < spec.processes; i++) {
    const fds: SyntheticFd[] = [];
    for (let fd = 0; fd < spec.fdsPerProcess; fd++)
      fds.push({ fd, target: plainTarget(rnd, i * 1000 + fd) });
    procs.push({ pid: first + i, comm: `proc${i}`, fds });
  }
  for (let c = 0; c < spec.drmClients && procs.length > 0; c++) addClient(procs, c, rnd);
  const kt = spec.kernelThreads ?? 0;
  for (let k = 0; k < kt; k++)
    procs.push({ pid: first + spec.processes + k, comm: `kworker/${k}`, fds: [] });
  return procs;
}

function addClient(procs: SyntheticProcess[], c: number, rnd: () => number): void {
  const idx = Math.floor(rnd() * procs.length);
  const owner = procs[idx]!;
  const name = SAMPLE_NAMES[c % SAMPLE_NAMES.length]!;
  const fdinfo = withClientId(DRIVER_SAMPLES[name], 5000 + c);
  const target = c % 3 === 0 ? '/dev/dri/card0' : '/dev/dri/renderD128';
  const fd = Math.max(99, ...owner.fds.map((f) => (f.fd < 1000 ? f.fd : 0))) + 1;
  owner.fds.push({ fd, target, fdinfo });
  const r = rnd();
  if (r < 0.25) owner.fds.push({ fd: fd + 1000, target, fdinfo }); // dup(2)
  const child = procs[idx + 1];
  if (r > 0.75 && child !== undefined && !child.fds.some((f) => f.fd === fd)) {
    child.fds.push({ fd, target, fdinfo }); // inherited across fork
  }
}
