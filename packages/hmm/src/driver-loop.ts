/**
 * The driver side of the mirroring protocol, as Documentation/mm/hmm.rst writes it out:
 *
 * ```
 *  again: seq = read_begin(sub)            invalidate(sub, range, cur):
 *         mmap_read_lock                       take driver lock (trylock if !blockable)
 *         hmm_range_fault  -EBUSY → again      set_seq(sub, cur)
 *         mmap_read_unlock                     tear down device mappings of range
 *         take driver lock                     drop driver lock
 *         read_retry(sub, seq) → unlock, again
 *         program device from hmm_pfns
 *         drop driver lock
 * ```
 *
 * The driver lock orders the two columns: once read_retry() said false under it, no
 * invalidation of the range can complete before the lock is dropped, so the pfns programmed
 * cannot be stale.
 */

import { Mm } from '@hmmkit/mm';
import { MmuIntervalNotifier } from '@hmmkit/mmu-notifier';
import { isKernelError, KernelError, schedulePoint } from '@hmmkit/runtime';
import type { HmmRange } from './range.js';
import { hmmRangeFault } from './range-fault.js';

/**
 * How long drivers keep retrying (HMM_RANGE_DEFAULT_TIMEOUT, 1000 ms in the kernel). The
 * model has no wall clock: hmmRangeFaultLoop() counts attempts instead, this many by default.
 */
export const HMM_RANGE_DEFAULT_TIMEOUT = 1000;

/** The driver's update lock (a Mutex, or a SpinLock for drivers that use one). */
export interface HmmDriverLock {
  lock(): Promise<void> | void;
  unlock(): void;
}

/** What hmmRangeFaultLoop() needs besides the range. */
export interface HmmRangeFaultLoopOptions {
  /** The lock the driver's invalidate callback takes around setSeq(). */
  lock: HmmDriverLock;
  /** Programs the device from `range.hmmPfns`; runs with `lock` held and the range valid. */
  program(range: HmmRange): void | Promise<void>;
  /** Attempts before giving up with EBUSY (default HMM_RANGE_DEFAULT_TIMEOUT). */
  timeout?: number;
}

/**
 * Runs the documented driver loop until the device is programmed from a snapshot no
 * invalidation has touched; returns the number of attempts it took. Mirrors the loop of
 * Documentation/mm/hmm.rst (nouveau_range_fault(), dmirror_range_fault()).
 *
 * **Details**: takes an mm user reference (mmget_not_zero) for the duration. The input
 * request flags of `range.hmmPfns` are consumed by the first attempt; on a retry the
 * outputs of the previous attempt act as inputs, as with the kernel's in-place array, so
 * per-page requests should use flags that outputs repeat (REQ_FAULT = VALID, REQ_WRITE =
 * WRITE) or `defaultFlags`.
 *
 * **Locking**: the caller holds neither the mmap_lock nor `opts.lock`; may sleep.
 *
 * @throws KernelError EFAULT when the address space is gone or hmmRangeFault() fails
 * (EFAULT, EPERM, EINVAL as it throws them); EBUSY after `timeout` attempts.
 * @example
 * await hmmRangeFaultLoop(range, { lock: driverLock, program: (r) => device.map(r) });
 */
export async function hmmRangeFaultLoop(
  range: HmmRange,
  opts: HmmRangeFaultLoopOptions,
): Promise<number> {
  const notifier = range?.notifier;
  if (!(notifier instanceof MmuIntervalNotifier) || !(notifier.mm instanceof Mm))
    throw new KernelError('EINVAL', 'range.notifier must be an MmuIntervalNotifier on an Mm');
  const timeout = opts?.timeout ?? HMM_RANGE_DEFAULT_TIMEOUT;
  if (!Number.isSafeInteger(timeout) || timeout < 1)
    throw new KernelError('EINVAL', `opts.timeout must be a positive integer, got ${timeout}`);
  if (typeof opts.program !== 'function' || typeof opts.lock?.lock !== 'function')
    throw new KernelError('EINVAL', 'opts needs a lock and a program function');
  const mm = notifier.mm;
  if (!mm.mmgetNotZero()) throw new KernelError('EFAULT', `mm ${mm.id} has no users left`);
  try {
    for (let attempt = 1; attempt <= timeout; attempt++)
      if (await tryOnce(mm, range, opts)) return attempt;
    throw new KernelError('EBUSY', `range still invalidated after ${timeout} attempts`);
  } finally {
    await mm.mmput();
  }
}

/** One pass of the loop; false when it must start again. */
async function tryOnce(mm: Mm, range: HmmRange, opts: HmmRangeFaultLoopOptions): Promise<boolean> {
  range.notifierSeq = await range.notifier.readBegin();
  await mm.mmapLock.downRead();
  try {
    await hmmRangeFault(range);
  } catch (e) {
    if (isKernelError(e, 'EBUSY')) return false;
    throw e;
  } finally {
    mm.mmapLock.upRead();
  }
  // Preemptible here as in the kernel: the window read_retry() exists for, open to the explorer.
  await schedulePoint();
  await opts.lock.lock();
  try {
    if (range.notifier.readRetry(range.notifierSeq)) return false;
    await opts.program(range);
    return true;
  } finally {
    opts.lock.unlock();
  }
}
