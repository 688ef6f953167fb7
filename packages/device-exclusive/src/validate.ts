/** Argument checks shared by the entry points; each names the argument and its value. */
import { Mm } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';

/** Throws EINVAL unless `mm` is an address space of @hmmkit/mm. */
export function checkMm(mm: unknown): asserts mm is Mm {
  if (!(mm instanceof Mm)) throw new KernelError('EINVAL', `mm must be an Mm, got ${String(mm)}`);
}

/** Throws EINVAL unless `v` is a non-negative safe integer. */
export function checkAddress(name: string, v: unknown): asserts v is number {
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new KernelError('EINVAL', `${name} must be a non-negative integer, got ${String(v)}`);
}
