/*
 * The baseline: the straightforward scanner most tools start from. Every pass lists
 * every pid's fd directory, readlinks every fd, and reads + parses the fdinfo of the
 * /dev/dri ones (readdirSync + readlinkSync + readFileSync + parseFdinfo).
 */
import * as fs from 'node:fs';
import { type DrmFdinfo, parseFdinfo } from '@hmmkit/fdinfo';

export interface NaiveClient {
  pid: number;
  fd: number;
  info: DrmFdinfo;
}

export function naiveScan(root: string): NaiveClient[] {
  const out: NaiveClient[] = [];
  for (const name of fs.readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`${root}/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = fs.readlinkSync(`${root}/${name}/fd/${fd}`);
        if (!target.startsWith('/dev/dri/')) continue;
        const info = parseFdinfo(fs.readFileSync(`${root}/${name}/fdinfo/${fd}`, 'utf8'));
        if (info !== undefined) out.push({ pid: Number(name), fd: Number(fd), info });
      } catch {}
    }
  }
  return out;
}

/** Re-reads known fdinfo paths the naive way (readFileSync + parse). */
export function naiveRefresh(paths: readonly string[]): number {
  let n = 0;
  for (const p of paths) {
    try {
      if (parseFdinfo(fs.readFileSync(p, 'utf8')) !== undefined) n++;
    } catch {}
  }
  return n;
}
