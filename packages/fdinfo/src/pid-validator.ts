/*
 * "Has this process's fd table possibly changed since the last scan?" — answered
 * without listing the fds, so a discovery pass can skip readdir + readlink for idle
 * processes. A token is read BEFORE the fd directory; an equal token on the next scan
 * proves the table did not change in between, under the rules below. Any doubt
 * returns undefined: the process is then listed in full.
 *
 * procfs (real /proc): the token is `/proc/<pid>/stat` starttime + `/proc/<pid>/schedstat`
 * (se.sum_exec_runtime in ns, run_delay, pcount). A task can change its fd table only
 * by running; when it stops running, the scheduler adds the time it ran to
 * sum_exec_runtime (update_curr() on dequeue). So if the task is not running now
 * (state not R) and its runtime is unchanged, it has not run since the last token.
 * Trusted only when:
 *   - the process has one thread (num_threads == 1): schedstat covers the leader only;
 *     io_uring workers count as threads, so they disable the shortcut too;
 *   - state is not R (a task on a CPU may not have had its runtime updated yet);
 *   - schedstat is not "0 0 0" (kernel without CONFIG_SCHED_INFO).
 * Not detected: another process sharing the fd table (clone(CLONE_FILES) without
 * CLONE_THREAD) changing it. The scanner's periodic full pass bounds that case.
 *
 * Other trees (synthetic, tmpfs): the fd directory's inode, mtime, ctime and size;
 * any fd added, removed or replaced changes mtime. Racy-timestamp guard (as git's
 * index): a directory modified less than RACY_MS before the previous scan started is
 * not trusted, since file-system timestamps are coarse (one jiffy on tmpfs).
 */
import type { ProcFs } from './proc-fs.js';

const RACY_NS = 100_000_000n;

/** Returns a token for `<root>/<pid>`, or undefined when an unchanged token would prove nothing. */
export type PidValidator = (pidDir: string, scanStartWallNs: bigint) => string | undefined;

/** Validator for a real procfs: stat + schedstat, see the file comment. */
export function procfsValidator(fs: ProcFs): PidValidator {
  const buf = Buffer.allocUnsafe(1024);
  return (pidDir) => {
    const n = fs.readInto(`${pidDir}/stat`, buf);
    // Fields after the last ")" (comm may hold any byte): state is field 3,
    // num_threads field 20, starttime field 22.
    let i = buf.lastIndexOf(41, n - 1) + 2; // ')'
    if (i < 2 || buf[i] === 82) return undefined; // 'R': on a CPU, runtime may be stale
    for (let field = 3; field < 20 && i > 0; field++) i = buf.indexOf(32, i) + 1;
    if (i <= 0 || buf[i] !== 49 || buf[i + 1] !== 32) return undefined; // num_threads != 1
    i = buf.indexOf(32, buf.indexOf(32, i) + 1) + 1;
    const end = buf.indexOf(32, i);
    if (i <= 0 || end < 0 || end > n) return undefined;
    const starttime = buf.toString('latin1', i, end);
    const sched = buf.toString('latin1', 0, fs.readInto(`${pidDir}/schedstat`, buf)).trim();
    if (sched === '' || sched.startsWith('0 ')) return undefined; // no CONFIG_SCHED_INFO
    return `${starttime} ${sched}`;
  };
}

/** Validator for ordinary file systems: the fd directory's identity and times. */
export function dirValidator(fs: ProcFs): PidValidator {
  return (pidDir, scanStartWallNs) => {
    const s = fs.statDir(`${pidDir}/fd`);
    if (s.mtimeNs > scanStartWallNs - RACY_NS || s.ctimeNs > scanStartWallNs - RACY_NS) {
      return undefined;
    }
    return `${s.ino}:${s.mtimeNs}:${s.ctimeNs}:${s.size}`;
  };
}
