/**
 * Errno-coded errors shared by every hmmkit package.
 *
 * The numbers are the Linux x86-64 errno values (include/uapi/asm-generic/errno-base.h
 * and errno.h), so a thrown `KernelError` maps one-to-one onto the negative return
 * value the kernel function would have produced.
 */

/** The errno names hmmkit throws. */
export type Errno =
  | 'EPERM'
  | 'ENOENT'
  | 'ESRCH'
  | 'EINTR'
  | 'EIO'
  | 'E2BIG'
  | 'EBADF'
  | 'EAGAIN'
  | 'ENOMEM'
  | 'EACCES'
  | 'EFAULT'
  | 'EBUSY'
  | 'EEXIST'
  | 'ENODEV'
  | 'EINVAL'
  | 'ENOSPC'
  | 'ERANGE'
  | 'EDEADLK'
  | 'ENOSYS'
  | 'EOVERFLOW'
  | 'EOPNOTSUPP'
  | 'ETIMEDOUT'
  | 'EHWPOISON';

/** Linux errno numbers by name (asm-generic/errno-base.h, asm-generic/errno.h). */
export const ERRNO: Readonly<Record<Errno, number>> = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EDEADLK: 35,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  EHWPOISON: 133,
});

/**
 * An error carrying a kernel errno: what a kernel function would return as `-code`.
 *
 * **Details**: `code` is the errno name, `errno` its Linux number. The message names
 * the argument or state at fault.
 *
 * @example
 * ```ts
 * throw new KernelError('EINVAL', 'insert: length must be > 0, got 0');
 * ```
 */
export class KernelError extends Error {
  readonly code: Errno;
  readonly errno: number;
  constructor(code: Errno, message: string) {
    super(`${code}: ${message}`);
    this.name = 'KernelError';
    this.code = code;
    this.errno = ERRNO[code];
  }
}

/**
 * Whether `e` is a {@link KernelError}, optionally with the given errno `code`.
 *
 * @example
 * ```ts
 * try { await op(); } catch (e) { if (isKernelError(e, 'EAGAIN')) retry(); else throw e; }
 * ```
 */
export function isKernelError(e: unknown, code?: Errno): e is KernelError {
  return e instanceof KernelError && (code === undefined || e.code === code);
}
