import type { ProcFs } from '@hmmkit/fdinfo';
import { describe, expect, it } from 'vitest';
import { procfsValidator } from '../src/pid-validator.js';

function fakeProc(nlink: bigint, files: Record<string, string>, reads: string[]): ProcFs {
  return {
    readdir: () => [],
    readlink: () => '',
    readInto(path, buf) {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
      return buf.write(text);
    },
    statDir(path) {
      reads.push(`statDir ${path}`);
      return { ino: 1n, mtimeNs: 0n, ctimeNs: 0n, size: 0n, nlink };
    },
    isProcfs: () => true,
  };
}

const stat = (state: string, threads: number) =>
  `42 (x) y) ${state} 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ${threads} 0 777 9\n`;

describe('procfs validator', () => {
  it('on a quiet pass reads schedstat then counts threads, without reading stat', () => {
    const reads: string[] = [];
    const v = procfsValidator(fakeProc(3n, { '/p/42/schedstat': '1000 20 3\n' }, reads));
    expect(v('/p/42', { wallNs: 0n, quiet: true }, undefined)).toBe('1000 20 3');
    expect(reads).toEqual(['/p/42/schedstat', 'statDir /p/42/task']);
  });

  it('on a quiet pass with an unchanged token skips the thread count (the only thread did not run)', () => {
    const reads: string[] = [];
    const v = procfsValidator(fakeProc(4n, { '/p/42/schedstat': '1000 20 3\n' }, reads));
    expect(v('/p/42', { wallNs: 0n, quiet: true }, '1000 20 3')).toBe('1000 20 3');
    expect(reads).toEqual(['/p/42/schedstat']);
    expect(v('/p/42', { wallNs: 0n, quiet: true }, '900 20 2')).toBeUndefined(); // it ran: count again
  });

  it('on a quiet pass refuses a process with more than one thread (task nlink > 3)', () => {
    const v = procfsValidator(fakeProc(4n, { '/p/42/schedstat': '1000 20 3\n' }, []));
    expect(v('/p/42', { wallNs: 0n, quiet: true }, undefined)).toBeUndefined();
  });

  it('on a quick pass also counts threads after the schedstat read', () => {
    const reads: string[] = [];
    const files = { '/p/42/stat': stat('S', 1), '/p/42/schedstat': '1000 20 3\n' };
    const v = procfsValidator(fakeProc(4n, files, reads)); // a thread appeared after stat
    expect(v('/p/42', { wallNs: 0n, quiet: false }, '1000 20 3')).toBeUndefined();
    expect(reads).toEqual(['/p/42/stat', '/p/42/schedstat', 'statDir /p/42/task']);
  });

  it('on a quick pass needs stat: state not R and one thread', () => {
    const files = { '/p/42/stat': stat('S', 1), '/p/42/schedstat': '1000 20 3\n' };
    const v = procfsValidator(fakeProc(3n, files, []));
    expect(v('/p/42', { wallNs: 0n, quiet: false }, undefined)).toBe('1000 20 3');
    files['/p/42/stat'] = stat('R', 1);
    expect(v('/p/42', { wallNs: 0n, quiet: false }, undefined)).toBeUndefined();
    files['/p/42/stat'] = stat('D', 12);
    expect(v('/p/42', { wallNs: 0n, quiet: false }, undefined)).toBeUndefined();
    files['/p/42/stat'] = 'garbage';
    expect(v('/p/42', { wallNs: 0n, quiet: false }, undefined)).toBeUndefined();
  });

  it('refuses a kernel without CONFIG_SCHED_INFO (schedstat 0 0 0)', () => {
    const v = procfsValidator(fakeProc(3n, { '/p/42/schedstat': '0 0 0\n' }, []));
    expect(v('/p/42', { wallNs: 0n, quiet: true }, undefined)).toBeUndefined();
  });
});
