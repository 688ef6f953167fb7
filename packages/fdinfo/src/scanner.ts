/*
 * Client discovery over a procfs root, in two tiers (as amdgpu_top's process index):
 *
 *   discover()  walk <root>/<pid>/fd for every pid, keep the fds whose link points
 *               into /dev/dri/ (or /dev/accel/), read only those fdinfo files,
 *               dedup by (pdev or device node, drm-client-id).        ~ per fd on the system
 *   refresh()   re-read only the fdinfo files found by the last discover().  ~ per DRM fd
 *
 * Detection is readlink + path prefix, not stat + char major 226: readlink does not
 * follow the link (a synthetic tree can hold a dangling /dev/dri/renderD128 link but
 * no character device), it costs less than stat on procfs, and it also finds accel
 * devices (major 261). The fdinfo content decides in the end: a file without
 * drm-driver is not a client (fd reused, device unplugged).
 *
 * Races are normal: a pid or fd listed a moment ago can be gone (ENOENT/ESRCH) and is
 * skipped; EACCES/EPERM is counted in stats.denied (once per process for fd links, since
 * the kernel's check is per task); nothing aborts the scan except an unreadable root.
 *
 * State (single-threaded use; no locking): `pids` maps pid -> {token, drm fds} from
 * the last discover(); `known` lists the DRM (pid, fd, device) triples refresh() reads.
 */
import { parseFdinfo } from './parse.js';
import {
  dirValidator,
  type PassInfo,
  type PidValidator,
  procfsValidator,
  QUIET_NS,
} from './pid-validator.js';
import { errnoCode, type ProcFs } from './proc-fs.js';
import type { DrmClientSample, DrmFdinfo } from './types.js';
import { validateScanOptions } from './validate.js';

/** Options shared by {@link scanClients} and {@link DrmClientScanner}. */
export interface ScanOptions {
  /** Root of the procfs tree; default '/proc'. */
  procRoot?: string;
  /** File-system layer; default node:fs. Tests inject one to make entries vanish mid-scan. */
  fs?: ProcFs;
  /** Bytes read at most per fdinfo file (default 65536); longer files count as truncated. */
  maxBytes?: number;
}

/** Options of {@link DrmClientScanner}. */
export interface ScannerOptions extends ScanOptions {
  /** Skip listing the fds of processes proven unchanged since the last discover (default true). */
  cache?: boolean;
  /** Every n-th discover() lists every process in full regardless of the cache (default 10). */
  fullEvery?: number;
}

/** Counters of the last discover() or refresh(). */
export interface ScanStats {
  pids: number;
  /** Pids whose fd list came from the cache (not listed). */
  cachedPids: number;
  fds: number;
  drmFds: number;
  clients: number;
  /** ENOENT / ESRCH: pid or fd gone between two calls. */
  vanished: number;
  /** EACCES / EPERM: not ours to read. */
  denied: number;
  /** Any other error on an entry (EIO, ELOOP, EINVAL, ...). */
  errors: number;
  /** fdinfo files longer than maxBytes (parsed up to the last full line). */
  truncated: number;
}

interface DrmFdRef {
  pid: number;
  fd: number;
  device: string;
  path: string;
  /** Bytes of the last read and their parse: an unchanged file is not parsed again. */
  lastBytes: Buffer | undefined;
  lastInfo: DrmFdinfo | undefined;
}

interface PidEntry {
  token: string | undefined;
  drm: DrmFdRef[];
}

const DRM_PREFIXES = ['/dev/dri/', '/dev/accel/'];

function isDrmDevice(target: string): boolean {
  return target.startsWith(DRM_PREFIXES[0]!) || target.startsWith(DRM_PREFIXES[1]!);
}

function emptyStats(): ScanStats {
  return {
    pids: 0,
    cachedPids: 0,
    fds: 0,
    drmFds: 0,
    clients: 0,
    vanished: 0,
    denied: 0,
    errors: 0,
    truncated: 0,
  };
}

/**
 * A two-tier DRM client scanner: discover() walks every process, refresh() re-reads known clients.
 *
 * Mirrors what igt's gputop and amdgpu_top do over /proc/<pid>/fd and /proc/<pid>/fdinfo.
 * **Context**: synchronous (blocks the event loop for the walk); not reentrant.
 * @throws TypeError / RangeError on bad options; an Error with `code` when the root
 * itself cannot be listed.
 * @example
 * const scanner = new DrmClientScanner({ procRoot: '/proc' });
 * let clients = scanner.discover();   // every few seconds
 * clients = scanner.refresh();        // at the display rate
 */
export class DrmClientScanner {
  readonly procRoot: string;
  /** Counters of the last call. */
  stats: ScanStats = emptyStats();
  private readonly fs: ProcFs;
  private readonly buf: Buffer;
  private readonly cache: boolean;
  private readonly fullEvery: number;
  private validator: PidValidator | undefined;
  private pids = new Map<number, PidEntry>();
  private known: DrmFdRef[] = [];
  private comms = new Map<number, string>();
  private passes = 0;
  private lastPassEnd: bigint | undefined;
  private passTexts = new Map<string, DrmFdinfo | undefined>();

  constructor(opts: ScannerOptions = {}) {
    const o = validateScanOptions('DrmClientScanner', opts);
    this.procRoot = o.procRoot;
    this.fs = o.fs;
    this.buf = Buffer.allocUnsafe(o.maxBytes);
    this.cache = o.cache;
    this.fullEvery = o.fullEvery;
  }

  /** Walks every pid's fd directory and returns the deduplicated clients. */
  discover(): DrmClientSample[] {
    this.stats = emptyStats();
    const start = process.hrtime.bigint();
    const pass: PassInfo = {
      wallNs: BigInt(Date.now()) * 1_000_000n,
      quiet: this.lastPassEnd !== undefined && start - this.lastPassEnd >= QUIET_NS,
    };
    const full = !this.cache || this.passes++ % this.fullEvery === 0;
    const next = new Map<number, PidEntry>();
    const known: DrmFdRef[] = [];
    for (const pid of this.listPids()) {
      const entry = this.scanPid(pid, pass, full);
      if (entry === undefined) continue;
      next.set(pid, entry);
      for (const ref of entry.drm) known.push(ref);
    }
    this.pids = next;
    this.known = known;
    this.comms.clear();
    const clients = this.readClients(true);
    this.lastPassEnd = process.hrtime.bigint();
    return clients;
  }

  /** Re-reads the fdinfo of the DRM fds found by the last discover(); drops the ones gone. */
  refresh(): DrmClientSample[] {
    this.stats = emptyStats();
    return this.readClients(false);
  }

  private listPids(): number[] {
    let names: string[];
    try {
      names = this.fs.readdir(this.procRoot);
    } catch (e) {
      const err = new Error(`procRoot ${this.procRoot} cannot be listed (${errnoCode(e) ?? e})`);
      throw Object.assign(err, { code: errnoCode(e) ?? 'EIO' });
    }
    const pids: number[] = [];
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 49 || c > 57) continue; // pids start with 1-9
      const pid = Number(name);
      if (Number.isSafeInteger(pid) && `${pid}` === name) pids.push(pid);
    }
    return pids.sort((a, b) => a - b);
  }

  /** One pid: the cached fd list if its token proves it unchanged, else a full listing. */
  private scanPid(pid: number, pass: PassInfo, full: boolean): PidEntry | undefined {
    this.stats.pids++;
    const dir = `${this.procRoot}/${pid}`;
    let token: string | undefined;
    if (this.cache) {
      const prev = this.pids.get(pid);
      try {
        token = this.validate(dir, pass, prev?.token);
      } catch (e) {
        if (this.count(e) === 'vanished') return undefined;
      }
      if (!full && token !== undefined && prev !== undefined && prev.token === token) {
        this.stats.cachedPids++;
        return prev;
      }
    }
    const drm = this.listDrmFds(pid, dir);
    return drm === undefined ? undefined : { token, drm };
  }

  private validate(dir: string, pass: PassInfo, prev: string | undefined): string | undefined {
    this.validator ??= this.fs.isProcfs(this.procRoot)
      ? procfsValidator(this.fs)
      : dirValidator(this.fs);
    return this.validator(dir, pass, prev);
  }

  private listDrmFds(pid: number, dir: string): DrmFdRef[] | undefined {
    let names: string[];
    try {
      names = this.fs.readdir(`${dir}/fd`);
    } catch (e) {
      return this.count(e) === 'vanished' ? undefined : [];
    }
    const drm: DrmFdRef[] = [];
    const base = `${dir}/fd/`;
    for (const name of names) {
      this.stats.fds++;
      let target: string;
      try {
        target = this.fs.readlink(base + name);
      } catch (e) {
        // proc_pid_readlink() checks ptrace access to the task, not the fd (proc_fd_access_allowed()):
        // one denied link means every link of this process is denied, so stop here.
        if (this.count(e) === 'denied') break;
        continue;
      }
      const fd = Number(name);
      if (isDrmDevice(target) && Number.isSafeInteger(fd)) drm.push(this.ref(pid, fd, target));
    }
    drm.sort((a, b) => a.fd - b.fd);
    return drm;
  }

  private ref(pid: number, fd: number, device: string): DrmFdRef {
    const path = `${this.procRoot}/${pid}/fdinfo/${fd}`;
    return { pid, fd, device, path, lastBytes: undefined, lastInfo: undefined };
  }

  /** Reads every known DRM fd's fdinfo and groups holders by client key. */
  private readClients(readComm: boolean): DrmClientSample[] {
    const byKey = new Map<string, DrmClientSample>();
    const alive: DrmFdRef[] = [];
    for (const ref of this.known) {
      this.stats.drmFds++;
      const read = this.readFdinfo(ref);
      if (read === 'vanished') continue;
      alive.push(ref);
      if (read === undefined) continue;
      const key = clientKey(read.info, ref);
      const seen = byKey.get(key);
      if (seen !== undefined) {
        seen.holders.push({ pid: ref.pid, fd: ref.fd });
        continue;
      }
      const sample = newSample(key, ref, read.info, read.timestampNs);
      const comm = readComm ? this.readComm(ref.pid) : this.comms.get(ref.pid);
      if (comm !== undefined) sample.comm = comm;
      byKey.set(key, sample);
    }
    this.known = alive;
    this.passTexts.clear();
    this.stats.clients = byKey.size;
    return [...byKey.values()];
  }

  private readFdinfo(
    ref: DrmFdRef,
  ): { info: DrmFdinfo; timestampNs: bigint } | undefined | 'vanished' {
    let n: number;
    try {
      n = this.fs.readInto(ref.path, this.buf);
    } catch (e) {
      return this.count(e) === 'vanished' ? 'vanished' : undefined;
    }
    const timestampNs = process.hrtime.bigint();
    if (n === this.buf.length) {
      this.stats.truncated++;
      n = this.buf.lastIndexOf(10, n - 1) + 1; // keep whole lines only
    }
    const bytes = this.buf.subarray(0, n);
    if (ref.lastBytes === undefined || !bytes.equals(ref.lastBytes)) {
      ref.lastBytes = Buffer.from(bytes);
      ref.lastInfo = this.parseOnce(bytes.toString('utf8'));
    }
    return ref.lastInfo === undefined ? undefined : { info: ref.lastInfo, timestampNs };
  }

  /** dup'd and inherited fds of one client print the same text: parse it once per pass. */
  private parseOnce(text: string): DrmFdinfo | undefined {
    const hit = this.passTexts.get(text);
    if (hit !== undefined || this.passTexts.has(text)) return hit;
    const info = parseFdinfo(text);
    this.passTexts.set(text, info);
    return info;
  }

  private readComm(pid: number): string | undefined {
    const cached = this.comms.get(pid);
    if (cached !== undefined) return cached;
    try {
      const n = this.fs.readInto(`${this.procRoot}/${pid}/comm`, this.buf.subarray(0, 256));
      const comm = this.buf.toString('utf8', 0, n).replace(/\n$/, '');
      this.comms.set(pid, comm);
      return comm;
    } catch (e) {
      this.count(e);
      return undefined;
    }
  }

  private count(e: unknown): 'vanished' | 'denied' | 'error' {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ESRCH') {
      this.stats.vanished++;
      return 'vanished';
    }
    if (code === 'EACCES' || code === 'EPERM') {
      this.stats.denied++;
      return 'denied';
    }
    this.stats.errors++;
    return 'error';
  }
}

/** (pdev or device node, client id); a client without an id cannot be deduplicated. */
function clientKey(info: DrmFdinfo, ref: DrmFdRef): string {
  const dev = info.pdev ?? ref.device;
  return info.clientId === undefined
    ? `${dev}/pid${ref.pid}:fd${ref.fd}`
    : `${dev}/${info.clientId}`;
}

function newSample(key: string, ref: DrmFdRef, info: DrmFdinfo, ts: bigint): DrmClientSample {
  return {
    key,
    pid: ref.pid,
    fd: ref.fd,
    holders: [{ pid: ref.pid, fd: ref.fd }],
    device: ref.device,
    info,
    timestampNs: ts,
  };
}

/**
 * Scans `procRoot` once and returns every DRM client, deduplicated by (pdev, client id).
 *
 * Mirrors the discovery of igt's gputop: every pid's fd links, then the fdinfo of DRM fds.
 * **Context**: runs the synchronous walk inside the returned promise (it blocks the event
 * loop for its duration: tens of ms on a busy /proc). Vanished pids/fds are skipped.
 * @throws TypeError / RangeError on bad options (rejected promise); Error with `code`
 * (e.g. 'ENOENT') when procRoot cannot be listed.
 * @example
 * for (const c of await scanClients()) console.log(c.pid, c.info.driver, c.holders.length);
 */
export async function scanClients(opts: ScanOptions = {}): Promise<DrmClientSample[]> {
  return new DrmClientScanner({
    ...validateScanOptions('scanClients', opts),
    cache: false,
  }).discover();
}
