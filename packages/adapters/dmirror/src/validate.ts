/**
 * The argument checks of dmirror_fops_unlocked_ioctl() and of the model's own entry points.
 */
import { PAGE_SIZE } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import { DMIRROR_MAX_BOUNCE } from './constants.js';

const U64_LIMIT = 2 ** 64;

/**
 * Checks an ioctl's `addr` and `npages` and returns the end address. As the kernel: an
 * unaligned `addr`, or `addr >= addr + (npages << PAGE_SHIFT)` in u64 arithmetic (zero pages
 * or a wrap past 2^64), is EINVAL. Values a u64 cannot hold are EINVAL too.
 * @throws KernelError EINVAL naming the argument and its value.
 */
export function checkCmd(fn: string, addr: unknown, npages: unknown): number {
  if (typeof addr !== 'number' || !Number.isSafeInteger(addr) || addr < 0)
    throw new KernelError(
      'EINVAL',
      `${fn}: addr must be a non-negative integer, got ${String(addr)}`,
    );
  if (typeof npages !== 'number' || !Number.isSafeInteger(npages) || npages < 0)
    throw new KernelError(
      'EINVAL',
      `${fn}: npages must be a non-negative integer, got ${String(npages)}`,
    );
  if (addr % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `${fn}: addr 0x${addr.toString(16)} is not page aligned`);
  const end = addr + npages * PAGE_SIZE;
  if (npages === 0 || end >= U64_LIMIT)
    throw new KernelError(
      'EINVAL',
      `${fn}: [addr 0x${addr.toString(16)}, +${npages} pages) is empty or wraps`,
    );
  return end;
}

/**
 * A bounce buffer of `size` bytes (dmirror_bounce_init's vmalloc()).
 * @throws KernelError ENOMEM beyond DMIRROR_MAX_BOUNCE.
 */
export function bounceAlloc(fn: string, size: number): Uint8Array {
  if (size > DMIRROR_MAX_BOUNCE)
    throw new KernelError('ENOMEM', `${fn}: bounce buffer of ${size} bytes cannot be allocated`);
  return new Uint8Array(size);
}
