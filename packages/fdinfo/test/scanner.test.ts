import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  DRIVER_SAMPLES,
  DrmClientScanner,
  generateProcesses,
  nodeProcFs,
  type ProcFs,
  type SyntheticProcess,
  scanClients,
  withClientId,
  writeSyntheticProcfs,
} from '@hmmkit/fdinfo';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(`${os.tmpdir()}/fdinfo-scan-`);
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const i915 = (id: number) => withClientId(DRIVER_SAMPLES.i915, id);
const plain = (fd: number, target: string) => ({ fd, target });

/** A small hand-made tree: dup'd fd, fork-inherited fd, sockets, pipes, a kernel thread. */
function handTree(): SyntheticProcess[] {
  return [
    { pid: 2, comm: 'kthreadd', fds: [] },
    {
      pid: 300,
      comm: 'compositor',
      fds: [
        plain(0, '/dev/null'),
        plain(1, 'socket:[123]'),
        plain(2, 'pipe:[77]'),
        { fd: 5, target: '/dev/dri/card0', fdinfo: i915(7) },
        { fd: 9, target: '/dev/dri/card0', fdinfo: i915(7) }, // dup(5)
        { fd: 6, target: '/dev/dri/renderD128', fdinfo: DRIVER_SAMPLES.msm },
      ],
    },
    { pid: 301, comm: 'sleep', fds: [{ fd: 5, target: '/dev/dri/card0', fdinfo: i915(7) }] }, // inherited
    { pid: 40, comm: 'game', fds: [{ fd: 3, target: '/dev/dri/renderD128', fdinfo: i915(8) }] },
  ];
}

describe('scanClients over a synthetic tree', () => {
  it('finds DRM clients, ignores non-DRM fds and dedups dup(2) and fork-inherited fds', async () => {
    writeSyntheticProcfs(root, handTree());
    const clients = await scanClients({ procRoot: root });
    expect(clients.map((c) => c.key)).toEqual([
      '0000:00:02.0/8',
      '0000:00:02.0/7',
      '/dev/dri/renderD128/7',
    ]);
    const shared = clients[1]!;
    expect(shared.pid).toBe(300);
    expect(shared.fd).toBe(5);
    expect(shared.comm).toBe('compositor');
    expect(shared.holders).toEqual([
      { pid: 300, fd: 5 },
      { pid: 300, fd: 9 },
      { pid: 301, fd: 5 },
    ]);
    expect(shared.info.engines.render?.busyNs).toBe(9288864723n);
    expect(typeof shared.timestampNs).toBe('bigint');
  });

  it('keys a client without drm-pdev by device node, so msm id 7 and i915 id 7 stay apart', async () => {
    writeSyntheticProcfs(root, handTree());
    const keys = (await scanClients({ procRoot: root })).map((c) => c.key);
    expect(keys).toContain('/dev/dri/renderD128/7');
    expect(keys).toContain('0000:00:02.0/7');
  });

  it('counts one client per generated client however many holders it has', async () => {
    const procs = generateProcesses({
      seed: 7,
      processes: 40,
      fdsPerProcess: 12,
      drmClients: 25,
      kernelThreads: 5,
    });
    writeSyntheticProcfs(root, procs);
    const scanner = new DrmClientScanner({ procRoot: root });
    const clients = scanner.discover();
    const drmFds = procs
      .flatMap((p) => p.fds)
      .filter((f) => f.target.startsWith('/dev/dri/')).length;
    expect(clients.length).toBe(25);
    expect(clients.reduce((n, c) => n + c.holders.length, 0)).toBe(drmFds);
    expect(drmFds).toBeGreaterThan(25);
    expect(scanner.stats).toMatchObject({ pids: 45, drmFds, clients: 25, vanished: 0, denied: 0 });
  });

  it('returns no clients on a tree without DRM fds and on the real /proc of a GPU-less machine', async () => {
    writeSyntheticProcfs(root, [{ pid: 10, comm: 'x', fds: [plain(0, 'socket:[1]')] }]);
    expect(await scanClients({ procRoot: root })).toEqual([]);
    if (!fs.existsSync('/dev/dri')) expect(await scanClients()).toEqual([]);
  });

  it('walks the real /proc twice with the cache on, seeing fds and (without a GPU) no clients', () => {
    const scanner = new DrmClientScanner();
    const first = scanner.discover();
    const fds = scanner.stats.fds;
    const second = scanner.discover();
    expect(scanner.stats.pids).toBeGreaterThan(1);
    expect(fds).toBeGreaterThan(0);
    if (!fs.existsSync('/dev/dri')) expect([first, second]).toEqual([[], []]);
  });

  it('treats a /dev/dri fd whose fdinfo has no drm-driver as not a client', async () => {
    writeSyntheticProcfs(root, [
      {
        pid: 10,
        comm: 'x',
        fds: [{ fd: 3, target: '/dev/dri/card0', fdinfo: 'pos:\t0\nflags:\t02\n' }],
      },
    ]);
    expect(await scanClients({ procRoot: root })).toEqual([]);
  });
});

describe('scanner robustness', () => {
  it('survives binary, truncated and huge fdinfo files, reading at most maxBytes', async () => {
    const huge = `drm-driver:\ti915\ndrm-client-id:\t1\n${'x-pad:\tyyyyyyyyyyyyyyyyyyyy\n'.repeat(50_000)}drm-engine-late:\t5 ns\n`;
    const binary = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 37) % 256)).toString(
      'latin1',
    );
    writeSyntheticProcfs(root, [
      {
        pid: 10,
        comm: 'x',
        fds: [
          { fd: 3, target: '/dev/dri/card0', fdinfo: huge },
          { fd: 4, target: '/dev/dri/card0', fdinfo: binary },
          {
            fd: 5,
            target: '/dev/dri/card0',
            fdinfo: 'drm-driver:\tmsm\ndrm-client-id:\t2\ndrm-engine-gpu:\t12',
          },
          {
            fd: 6,
            target: `/dev/dri/${'z'.repeat(200)}`,
            fdinfo: 'drm-driver:\t\u0000\u0001\ndrm-client-id:\t3\n',
          },
        ],
      },
    ]);
    const scanner = new DrmClientScanner({ procRoot: root, maxBytes: 4096 });
    const clients = scanner.discover();
    expect(clients.map((c) => c.info.clientId)).toEqual(['1', '2', '3']);
    expect(clients[0]!.info.engines.late).toBeUndefined(); // beyond the cap
    expect(clients[1]!.info.engines.gpu?.busyNs).toBe(12n);
    expect(scanner.stats.truncated).toBe(1);
  });

  it('skips processes and fds that vanish between listing and reading (ENOENT is normal)', () => {
    writeSyntheticProcfs(root, handTree());
    let readlinks = 0;
    const racy: ProcFs = {
      ...nodeProcFs,
      readlink(path) {
        // the first process with fds exits while its fds are being listed
        if (++readlinks === 2) fs.rmSync(`${root}/40`, { recursive: true, force: true });
        return nodeProcFs.readlink(path);
      },
      readInto(path, buf) {
        // the inheriting child exits between discovery of its fd and the fdinfo read
        if (path.includes('/301/fdinfo/'))
          fs.rmSync(`${root}/301`, { recursive: true, force: true });
        return nodeProcFs.readInto(path, buf);
      },
    };
    const scanner = new DrmClientScanner({ procRoot: root, fs: racy });
    const clients = scanner.discover();
    expect(clients.map((c) => c.key)).toEqual(['0000:00:02.0/7', '/dev/dri/renderD128/7']);
    expect(clients[0]!.holders).toEqual([
      { pid: 300, fd: 5 },
      { pid: 300, fd: 9 },
    ]);
    expect(scanner.stats.vanished).toBeGreaterThanOrEqual(1);
  });

  it('counts EACCES and ESRCH entries without aborting the scan', () => {
    writeSyntheticProcfs(root, handTree());
    const denied: ProcFs = {
      ...nodeProcFs,
      readdir(path) {
        if (path.endsWith('/40/fd')) throw Object.assign(new Error('denied'), { code: 'EACCES' });
        return nodeProcFs.readdir(path);
      },
      readInto(path, buf) {
        if (path.endsWith('/300/fdinfo/6'))
          throw Object.assign(new Error('gone'), { code: 'ESRCH' });
        if (path.endsWith('/300/fdinfo/9')) throw Object.assign(new Error('io'), { code: 'EIO' });
        return nodeProcFs.readInto(path, buf);
      },
    };
    const scanner = new DrmClientScanner({ procRoot: root, fs: denied });
    const keys = scanner.discover().map((c) => c.key);
    expect(keys).toEqual(['0000:00:02.0/7']);
    expect(scanner.stats).toMatchObject({ denied: 1, vanished: 1, errors: 1 });
  });

  it('stops reading the fd links of a process after the first EACCES (the check is per task)', () => {
    writeSyntheticProcfs(root, handTree());
    const calls: string[] = [];
    const hardened: ProcFs = {
      ...nodeProcFs,
      readlink(path) {
        if (path.includes('/300/fd/')) {
          calls.push(path);
          throw Object.assign(new Error('denied'), { code: 'EACCES' });
        }
        return nodeProcFs.readlink(path);
      },
    };
    const scanner = new DrmClientScanner({ procRoot: root, fs: hardened });
    expect(scanner.discover().map((c) => c.key)).toEqual(['0000:00:02.0/8', '0000:00:02.0/7']);
    expect(calls).toHaveLength(1);
    expect(scanner.stats.denied).toBe(1);
  });

  it('ignores non-numeric entries and fd names in the root', async () => {
    writeSyntheticProcfs(root, handTree());
    fs.mkdirSync(`${root}/self`);
    fs.mkdirSync(`${root}/0123`);
    fs.writeFileSync(`${root}/99`, 'not a dir');
    fs.symlinkSync('/dev/dri/card0', `${root}/40/fd/notanumber`);
    expect((await scanClients({ procRoot: root })).length).toBe(3);
  });
});

describe('two-tier refresh', () => {
  it('re-reads only the known DRM fdinfo files and sees new counter values', () => {
    writeSyntheticProcfs(root, handTree());
    const reads: string[] = [];
    const spy: ProcFs = {
      ...nodeProcFs,
      readInto(path, buf) {
        reads.push(path);
        return nodeProcFs.readInto(path, buf);
      },
      readdir(path) {
        reads.push(path);
        return nodeProcFs.readdir(path);
      },
    };
    const scanner = new DrmClientScanner({ procRoot: root, fs: spy });
    scanner.discover();
    fs.writeFileSync(`${root}/40/fdinfo/3`, i915(8).replace('9288864723', '9999999999'));
    reads.length = 0;
    const clients = scanner.refresh();
    expect(reads.every((p) => p.includes('/fdinfo/'))).toBe(true);
    expect(reads.length).toBe(5);
    expect(clients.find((c) => c.key === '0000:00:02.0/8')?.info.engines.render?.busyNs).toBe(
      9999999999n,
    );
    expect(clients.find((c) => c.pid === 40)?.comm).toBe('game');
  });

  it('drops clients whose fds closed since discovery and notices a reused fd as a new client', () => {
    writeSyntheticProcfs(root, handTree());
    const scanner = new DrmClientScanner({ procRoot: root });
    scanner.discover();
    fs.rmSync(`${root}/40`, { recursive: true });
    fs.writeFileSync(`${root}/300/fdinfo/6`, withClientId(DRIVER_SAMPLES.msm, 99));
    const keys = scanner.refresh().map((c) => c.key);
    expect(keys).toEqual(['0000:00:02.0/7', '/dev/dri/renderD128/99']);
  });
});

describe('discovery cache', () => {
  // let the tree age past the 100 ms racy-timestamp window
  const settle = () => new Promise((r) => setTimeout(r, 150));

  it('reuses the fd list of an unchanged process and relists a changed one', async () => {
    writeSyntheticProcfs(root, handTree());
    await settle();
    const scanner = new DrmClientScanner({ procRoot: root });
    scanner.discover();
    expect(scanner.stats.cachedPids).toBe(0);
    writeSyntheticProcfs(root, [
      { pid: 40, comm: 'game', fds: [{ fd: 4, target: '/dev/dri/card0', fdinfo: i915(11) }] },
    ]);
    const keys = scanner.discover().map((c) => c.key);
    expect(keys).toContain('0000:00:02.0/11');
    expect(keys).not.toContain('0000:00:02.0/8');
    expect(scanner.stats.cachedPids).toBe(3); // 2, 300, 301 unchanged; 40 rewritten just now
  });

  it('does not trust a directory modified within the racy window', () => {
    writeSyntheticProcfs(root, handTree());
    const justModified: ProcFs = {
      ...nodeProcFs,
      statDir(path) {
        const s = nodeProcFs.statDir(path);
        return { ...s, mtimeNs: BigInt(Date.now()) * 1_000_000n - 50_000_000n };
      },
    };
    const scanner = new DrmClientScanner({ procRoot: root, fs: justModified });
    scanner.discover();
    scanner.discover();
    expect(scanner.stats.cachedPids).toBe(0);
  });

  it('lists every process again on each fullEvery-th pass, and never with cache: false', async () => {
    writeSyntheticProcfs(root, handTree());
    await settle();
    const every2 = new DrmClientScanner({ procRoot: root, fullEvery: 2 });
    const off = new DrmClientScanner({ procRoot: root, cache: false });
    const cached = [0, 1, 2, 3].map(() => {
      every2.discover();
      return every2.stats.cachedPids;
    });
    expect(cached).toEqual([0, 4, 0, 4]);
    off.discover();
    off.discover();
    expect(off.stats.cachedPids).toBe(0);
  });

  it('on procfs trusts only single-threaded, not-running processes with unchanged schedstat', () => {
    const stat = (state: string, threads: number) =>
      `42 (a b) c) ${state} 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ${threads} 0 777 9 9\n`;
    const files: Record<string, string> = {
      '/p/42/stat': stat('S', 1),
      '/p/42/schedstat': '1000 20 3\n',
    };
    let readdirs = 0;
    const fake: ProcFs = {
      readdir(path) {
        if (path === '/p') return ['42'];
        readdirs++;
        return ['3'];
      },
      readlink: () => '/dev/dri/card0',
      readInto(path, buf) {
        const text = path.includes('/fdinfo/') ? i915(5) : files[path];
        if (text === undefined) throw Object.assign(new Error('x'), { code: 'ENOENT' });
        return buf.write(text);
      },
      statDir: (path) => {
        expect(path).toBe('/p/42/task');
        return { ino: 1n, mtimeNs: 0n, ctimeNs: 0n, size: 0n, nlink: 3n };
      },
      isProcfs: () => true,
    };
    const scanner = new DrmClientScanner({ procRoot: '/p', fs: fake, fullEvery: 1000 });
    const pass = () => {
      scanner.discover();
      return readdirs;
    };
    expect(pass()).toBe(1);
    expect(pass()).toBe(1); // unchanged: fd dir not listed
    files['/p/42/schedstat'] = '1500 20 4\n';
    expect(pass()).toBe(2); // it ran
    files['/p/42/stat'] = stat('R', 1);
    expect(pass()).toBe(3); // running now: runtime may be stale
    files['/p/42/stat'] = stat('S', 2);
    expect(pass()).toBe(4); // two threads: leader schedstat proves nothing
    expect(pass()).toBe(5);
    files['/p/42/stat'] = stat('S', 1);
    files['/p/42/schedstat'] = '0 0 0\n';
    expect(pass()).toBe(6); // no CONFIG_SCHED_INFO
    expect(pass()).toBe(7);
  });
});

describe('scanner arguments', () => {
  it('rejects bad options naming the option and value', async () => {
    await expect(scanClients({ procRoot: 5 as never })).rejects.toThrow(
      /procRoot must be a non-empty path string, got 5/,
    );
    await expect(scanClients({ procRoot: '' })).rejects.toThrow(TypeError);
    await expect(scanClients(null as never)).rejects.toThrow(/opts must be an object, got null/);
    await expect(scanClients({ maxBytes: 10 })).rejects.toThrow(
      /maxBytes must be an integer in \[256/,
    );
    await expect(scanClients({ fs: {} as never })).rejects.toThrow(/fs must implement/);
    expect(() => new DrmClientScanner({ fullEvery: 0 })).toThrow(RangeError);
    expect(() => new DrmClientScanner({ cache: 'yes' as never })).toThrow(
      /cache must be a boolean/,
    );
  });

  it('rejects with the errno code when procRoot cannot be listed', async () => {
    await expect(scanClients({ procRoot: `${root}/missing` })).rejects.toMatchObject({
      code: 'ENOENT',
    });
    fs.writeFileSync(`${root}/file`, '');
    await expect(scanClients({ procRoot: `${root}/file` })).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});

describe('synthetic tree generator', () => {
  it('is reproducible for a seed and holds kernel threads without fds', () => {
    const a = generateProcesses({
      seed: 3,
      processes: 5,
      fdsPerProcess: 4,
      drmClients: 3,
      kernelThreads: 2,
    });
    const b = generateProcesses({
      seed: 3,
      processes: 5,
      fdsPerProcess: 4,
      drmClients: 3,
      kernelThreads: 2,
    });
    expect(a).toEqual(b);
    expect(a.filter((p) => p.fds.length === 0).map((p) => p.comm)).toEqual([
      'kworker/0',
      'kworker/1',
    ]);
    expect(a.flatMap((p) => p.fds).some((f) => f.target.startsWith('socket:['))).toBe(true);
  });

  it('rejects bad counts and bad roots', () => {
    expect(() =>
      generateProcesses({ seed: 1, processes: -1, fdsPerProcess: 1, drmClients: 0 }),
    ).toThrow(/processes must be an integer >= 0, got -1/);
    expect(() =>
      generateProcesses({ seed: 1, processes: 1, fdsPerProcess: 1.5, drmClients: 0 }),
    ).toThrow(RangeError);
    expect(() => generateProcesses(null as never)).toThrow(/spec must be an object/);
    expect(() => writeSyntheticProcfs('', [])).toThrow(TypeError);
    expect(() => writeSyntheticProcfs(root, {} as never)).toThrow(/processes must be an array/);
  });

  it('adds a client id after drm-driver when a sample has none', () => {
    expect(withClientId('drm-driver:\tx\n', 5)).toBe('drm-driver:\tx\ndrm-client-id:\t5\n');
    expect(withClientId(DRIVER_SAMPLES.msm, 9)).toMatch(/^drm-client-id:\t9$/m);
    expect(() => withClientId(5 as never, 1)).toThrow(TypeError);
    expect(() => withClientId('', -2)).toThrow(/bad id -2/);
  });
});
