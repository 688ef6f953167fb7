/*
 * The file-system calls the scanner makes, behind an interface so that tests can make
 * processes and fds vanish between two calls. Every method is synchronous: on procfs
 * thousands of tiny sync calls in a loop cost far less than as many promises
 * (measured: fs.promises is 2-6x slower for this walk).
 */
import * as fs from 'node:fs';

/** Directory identity used to tell that an fd directory is unchanged, and procfs thread counts. */
export interface DirStat {
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  size: bigint;
  /** On procfs, `/proc/<pid>/task` has 2 + number-of-threads links (proc_task_getattr()). */
  nlink: bigint;
}

/** The calls the scanner needs. Errors carry a Node-style `code` ('ENOENT', 'EACCES', ...). */
export interface ProcFs {
  readdir(path: string): string[];
  readlink(path: string): string;
  /** Reads from the start of `path` into `buf` until EOF or `buf` is full; returns the byte count. */
  readInto(path: string, buf: Buffer): number;
  statDir(path: string): DirStat;
  /** True when `root` is a mounted procfs (statfs magic 0x9fa0). */
  isProcfs(root: string): boolean;
}

const PROC_SUPER_MAGIC = 0x9fa0;

function readInto(path: string, buf: Buffer): number {
  const fd = fs.openSync(path, 'r');
  try {
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      n += got;
      // A short read is EOF for regular files and for procfs seq_files alike.
      if (got < buf.length - (n - got) || got === 0) break;
    }
    return n;
  } finally {
    fs.closeSync(fd);
  }
}

function statDir(path: string): DirStat {
  const s = fs.statSync(path, { bigint: true });
  return { ino: s.ino, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, size: s.size, nlink: s.nlink };
}

function isProcfs(root: string): boolean {
  try {
    return fs.statfsSync(root).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The real file system through node:fs (synchronous calls). */
export const nodeProcFs: ProcFs = {
  readdir: (path) => fs.readdirSync(path),
  readlink: (path) => fs.readlinkSync(path),
  readInto,
  statDir,
  isProcfs,
};

/** The errno code of a thrown fs error, or undefined. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
