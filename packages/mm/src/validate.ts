/** Argument checks shared by the entry points; each names the argument and its value. */
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE, TASK_SIZE } from './constants.js';

/** Throws EINVAL unless `v` is an integer (any sign) — used before errno-specific checks. */
export function checkInteger(name: string, v: unknown): asserts v is number {
  if (!Number.isSafeInteger(v))
    throw new KernelError('EINVAL', `${name} must be a safe integer, got ${String(v)}`);
}

/** PAGE_ALIGN(): rounds up to a page boundary. */
export function pageAlign(v: number): number {
  return Math.ceil(v / PAGE_SIZE) * PAGE_SIZE;
}

/** Whether `v` is page aligned (offset_in_page(v) == 0). */
export function isPageAligned(v: number): boolean {
  return v % PAGE_SIZE === 0;
}

/**
 * Validates a user range for read()/write() (access_ok): EFAULT when it leaves the user
 * address space, EINVAL for malformed numbers.
 */
export function checkUserRange(addr: unknown, length: unknown): void {
  checkInteger('addr', addr);
  checkInteger('length', length);
  if (length < 0) throw new KernelError('EINVAL', `length must be >= 0, got ${length}`);
  if (addr < 0 || addr + length > TASK_SIZE)
    throw new KernelError(
      'EFAULT',
      `[${addr}, ${addr + length}) is outside the user address space`,
    );
}

/** Throws ESRCH when the process already exited. */
export function checkAlive(mm: { isExited: boolean; id: number }): void {
  if (mm.isExited) throw new KernelError('ESRCH', `process of mm ${mm.id} has exited`);
}
