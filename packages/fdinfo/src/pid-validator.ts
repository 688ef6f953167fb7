/*
 * "Has this process's fd table possibly changed since the last scan?" — answered
 * without listing the fds, so a discovery pass can skip readdir + readlink for idle
 * processes. A token is read BEFORE the fd directory; an equal token on the next scan
 * proves the table did not change in between, under the rules below. Any doubt
 * returns undefined: the process is then listed in full.
 *
 * procfs (real /proc): the token is `/proc/<pid>/schedstat` (se.sum_exec_runtime in ns,
 * run_delay, pcount). A task can change its fd table only by running, and the
 * scheduler adds the time a task ran to sum_exec_runtime (update_curr()) when it stops
 * running and on every tick while it runs. So an unchanged runtime proves that the
 * task has not run since the previous token, provided it is not running right now
 * with a runtime not yet updated. That is ruled out in one of two ways:
 *   - quiet pass (>= QUIET_NS since the previous pass ended): a running task gets a
 *     tick within that time (every 1-10 ms; on nohz_full CPUs the residual 1 Hz remote
 *     tick, sched_tick_remote()), so its runtime would have moved;
 *     (that remote tick is a workqueue item and runs late when housekeeping CPUs are
 *     busy, so on nohz_full systems a change can be seen one pass late);
 *   - otherwise, `/proc/<pid>/stat` must show a state other than R.
 * Trusted only for single-threaded processes (schedstat covers the leader only;
 * io_uring workers count as threads): `/proc/<pid>/task` nlink == 3, counted after
 * the schedstat read (a thread created later makes the leader run and moves the token).
 * On a quiet pass it is counted only when the token changed: a process that was
 * single-threaded and whose only thread did not run cannot have gained a thread.
 * Never trusted when schedstat reads "0 0 0" (kernel
 * without CONFIG_SCHED_INFO). A pid reused by a new process would need the same
 * runtime to the nanosecond, the same run_delay and the same pcount.
 * Not detected: another process sharing the fd table (clone(CLONE_FILES) without
 * CLONE_THREAD) changing it. The scanner's periodic full pass bounds that case.
 *
 * Other trees (synthetic, tmpfs): the fd directory's inode, mtime, ctime and size;
 * any fd added, removed or replaced changes mtime. Racy-timestamp guard (as git's
 * index): a directory modified less than RACY_NS before the scan started is not
 * trusted, since file-system timestamps are coarse (one jiffy on tmpfs).
 */
import type { ProcFs } from './proc-fs.js';

const RACY_NS = 100_000_000n;

/** Time after which a running task's runtime has surely been updated by a tick. */
export const QUIET_NS = 2_000_000_000n;

/** What a validator knows about the current pass. */
export interface PassInfo {
  /** Wall-clock start of this pass (ns since the epoch), for the racy-timestamp guard. */
  wallNs: bigint;
  /** At least QUIET_NS passed since the previous pass ended. */
  quiet: boolean;
}

/**
 * Returns a token for `<root>/<pid>`, or undefined when an unchanged token would prove
 * nothing. `prev` is the token the same pid had on the previous pass.
 */
export type PidValidator = (
  pidDir: string,
  pass: PassInfo,
  prev: string | undefined,
) => string | undefined;

/** Validator for a real procfs: stat + schedstat, see the file comment. */
export function procfsValidator(fs: ProcFs): PidValidator {
  const buf = Buffer.allocUnsafe(1024);
  const readSched = (pidDir: string) => {
    const sched = buf.toString('latin1', 0, fs.readInto(`${pidDir}/schedstat`, buf)).trim();
    return sched === '' || sched.startsWith('0 ') ? undefined : sched; // no CONFIG_SCHED_INFO
  };
  return (pidDir, pass, prev) => {
    if (!pass.quiet && !singleAndNotRunning(buf, fs.readInto(`${pidDir}/stat`, buf))) {
      return undefined;
    }
    const sched = readSched(pidDir);
    // A defined previous token was single-threaded after its schedstat read; only that
    // thread could have added one, and it did not run: no need to count threads again.
    if (sched === undefined || (pass.quiet && sched === prev)) return sched;
    // Counted after the schedstat read: a thread added later makes the leader run.
    return fs.statDir(`${pidDir}/task`).nlink === 3n ? sched : undefined;
  };
}

/** From /proc/<pid>/stat: state (field 3) is not R and num_threads (field 20) is 1. */
function singleAndNotRunning(buf: Buffer, n: number): boolean {
  // comm (field 2) may hold any byte: fields are counted from the last ")".
  let i = buf.lastIndexOf(41, n - 1) + 2;
  if (i < 2 || i >= n || buf[i] === 82) return false; // 'R': runtime may be stale
  for (let field = 3; field < 20 && i > 0; field++) i = buf.indexOf(32, i) + 1;
  return i > 0 && i + 1 < n && buf[i] === 49 && buf[i + 1] === 32;
}

/** Validator for ordinary file systems: the fd directory's identity and times. */
export function dirValidator(fs: ProcFs): PidValidator {
  return (pidDir, pass) => {
    const s = fs.statDir(`${pidDir}/fd`);
    if (s.mtimeNs > pass.wallNs - RACY_NS || s.ctimeNs > pass.wallNs - RACY_NS) {
      return undefined;
    }
    return `${s.ino}:${s.mtimeNs}:${s.ctimeNs}:${s.size}`;
  };
}
