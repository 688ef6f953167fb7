import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type ClientUsage,
  DRIVER_SAMPLES,
  type DrmClientSample,
  parseGputopArgs,
  renderTable,
  runGputop,
  sortUsages,
  toJsonDocument,
  withClientId,
  writeSyntheticProcfs,
} from '@hmmkit/fdinfo';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const fromDist = process.env.TEST_DIST === '1' || process.env.TEST_DIST === 'true';
const cli = fromDist
  ? ['bin/hmmkit-gputop.js']
  : ['--conditions=@hmmkit/source', '--import', 'tsx', 'src/cli/gputop.ts'];

function usage(
  key: string,
  pid: number,
  comm: string,
  busy: number,
  resident: number,
): ClientUsage {
  return {
    key,
    pid,
    comm,
    driver: 'i915',
    clientId: key,
    intervalNs: 1_000_000_000n,
    engines: { render: { utilisation: busy, basis: 'ns', capacity: 1, reset: false } },
    memory: { system0: { resident } },
  };
}

const us = [usage('1', 30, 'b', 0.2, 5), usage('2', 10, 'c', 0.9, 1), usage('3', 20, 'a', 0.5, 9)];

describe('gputop view', () => {
  it('parses flags and refuses unknown or bad ones naming them', () => {
    expect(
      parseGputopArgs([
        '--once',
        '--json',
        '--proc-root',
        '/x',
        '--sort',
        'memory',
        '--interval',
        '50',
      ]),
    ).toMatchObject({
      once: true,
      json: true,
      procRoot: '/x',
      sort: 'memory',
      intervalMs: 50,
    });
    expect(() => parseGputopArgs(['--sort', 'fast'])).toThrow(/--sort must be one of busy/);
    expect(() => parseGputopArgs(['--interval', '0'])).toThrow(
      /--interval needs an integer >= 1, got "0"/,
    );
    expect(() => parseGputopArgs(['--bogus'])).toThrow(/unknown argument "--bogus"/);
    expect(() => parseGputopArgs(['--proc-root'])).toThrow(/needs a value/);
  });

  it('sorts by busy, memory, pid, name and client key', () => {
    const order = (k: Parameters<typeof sortUsages>[1]) => sortUsages(us, k).map((u) => u.key);
    expect(order('busy')).toEqual(['2', '3', '1']);
    expect(order('memory')).toEqual(['3', '1', '2']);
    expect(order('pid')).toEqual(['2', '3', '1']);
    expect(order('name')).toEqual(['3', '1', '2']);
    expect(order('client')).toEqual(['1', '2', '3']);
  });

  it('renders one row per client with engine percentages and holder counts', () => {
    const s = {
      key: '2',
      holders: [
        { pid: 10, fd: 3 },
        { pid: 11, fd: 3 },
      ],
    } as DrmClientSample;
    const lines = renderTable(sortUsages(us, 'busy'), [s]).split('\n');
    expect(lines[0]).toMatch(/^PID\s+COMM\s+DRIVER\s+CLIENT\s+HOLD\s+BUSY\s+RESIDENT\s+ENGINES$/);
    expect(lines[1]).toMatch(/^10\s+c\s+i915\s+2\s+2\s+90\.0%\s+0\.0M\s+render:90\.0%$/);
    expect(lines).toHaveLength(4);
  });

  it('rejects non-array inputs and unknown sort keys', () => {
    expect(() => sortUsages('x' as never, 'busy')).toThrow(TypeError);
    expect(() => sortUsages(us, 'speed' as never)).toThrow(/unknown sort key "speed"/);
    expect(() => renderTable(us, null as never)).toThrow(
      /renderTable: usages and samples must be arrays/,
    );
    expect(() => toJsonDocument({} as never, [])).toThrow(TypeError);
  });

  it('produces JSON-safe documents with bigints as strings', () => {
    const doc = JSON.parse(JSON.stringify(toJsonDocument(us, [])));
    expect(doc.clients[0]).toMatchObject({ key: '1', intervalNs: '1000000000', device: null });
  });
});

describe('hmmkit-gputop command', () => {
  it('says no DRM clients found and exits 0 on a tree without DRM fds', () => {
    const root = fs.mkdtempSync(`${os.tmpdir()}/gputop-`);
    try {
      writeSyntheticProcfs(root, [{ pid: 5, comm: 'x', fds: [{ fd: 0, target: 'socket:[1]' }] }]);
      const r = spawnSync(process.execPath, [...cli, '--once', '--proc-root', root], {
        cwd: pkg,
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`no DRM clients found under ${root}\n`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('prints deduplicated clients as JSON with --once --json', () => {
    const root = fs.mkdtempSync(`${os.tmpdir()}/gputop-`);
    try {
      const info = withClientId(DRIVER_SAMPLES.i915, 42);
      writeSyntheticProcfs(root, [
        { pid: 5, comm: 'game', fds: [{ fd: 3, target: '/dev/dri/renderD128', fdinfo: info }] },
        { pid: 6, comm: 'child', fds: [{ fd: 3, target: '/dev/dri/renderD128', fdinfo: info }] },
      ]);
      const out = execFileSync(
        process.execPath,
        [...cli, '--once', '--json', '--interval', '20', '--proc-root', root],
        {
          cwd: pkg,
          encoding: 'utf8',
        },
      );
      const doc = JSON.parse(out);
      expect(doc.clients).toHaveLength(1);
      expect(doc.clients[0]).toMatchObject({
        pid: 5,
        comm: 'game',
        driver: 'i915',
        clientId: '42',
      });
      expect(doc.clients[0].holders).toEqual([
        { pid: 5, fd: 3 },
        { pid: 6, fd: 3 },
      ]);
      expect(doc.clients[0].engines.render).toMatchObject({ utilisation: 0, basis: 'ns' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('exits 2 with a message on a bad flag', () => {
    const r = spawnSync(process.execPath, [...cli, '--sort', 'nope'], {
      cwd: pkg,
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--sort must be one of/);
  });
});

describe('runGputop (in process)', () => {
  it('writes one JSON sample for --once --json and resolves with 0', async () => {
    const root = fs.mkdtempSync(`${os.tmpdir()}/gputop-`);
    try {
      const info = withClientId(DRIVER_SAMPLES.amdgpu, 7);
      writeSyntheticProcfs(root, [
        { pid: 9, comm: 'blender', fds: [{ fd: 4, target: '/dev/dri/renderD129', fdinfo: info }] },
      ]);
      const chunks: string[] = [];
      const code = await runGputop(['--once', '--json', '--interval', '10', '--proc-root', root], {
        write: (t) => chunks.push(t),
      });
      expect(code).toBe(0);
      const doc = JSON.parse(chunks.join(''));
      expect(doc.clients).toHaveLength(1);
      expect(doc.clients[0]).toMatchObject({ pid: 9, comm: 'blender', clientId: '7' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects a bad option before scanning anything', async () => {
    await expect(runGputop(['--sort', 'colour'], { write: () => {} })).rejects.toThrow(/sort/);
  });
});
