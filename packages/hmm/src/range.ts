/**
 * struct hmm_range (include/linux/hmm.h) and the checks every entry point runs on it.
 */
import { Mm, PAGE_SIZE } from '@hmmkit/mm';
import { MmuIntervalNotifier } from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import { HMM_PFN_FLAGS, HmmPfns } from './pfn.js';

/**
 * What a driver asks hmmRangeFault() to snapshot or fault. Mirrors struct hmm_range.
 *
 * Per page the request is `(hmmPfns.flags[i] & pfnFlagsMask) | defaultFlags` (HMM_PFN_REQ_*
 * bits); on return `hmmPfns` holds the outputs (see pfn.ts for the layout).
 */
export interface HmmRange {
  /** The interval notifier covering [start, end); its `mm` is the address space walked. */
  notifier: MmuIntervalNotifier;
  /** Value returned by `notifier.readBegin()` for this attempt. */
  notifierSeq: number;
  /** First address, page aligned (inclusive). */
  start: number;
  /** End address, page aligned (exclusive). */
  end: number;
  /** One entry per page of [start, end): request flags in, pfn and flags out. */
  hmmPfns: HmmPfns;
  /** HMM_PFN_REQ_* bits requested for every page. */
  defaultFlags: number;
  /** Which bits of each input entry count as a per-page request. */
  pfnFlagsMask: number;
  /** Device-private pages whose pagemap owner is this value are reported, never faulted. */
  devPrivateOwner?: unknown;
}

function checkFlags(name: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) & ~HMM_PFN_FLAGS)
    throw new KernelError('EINVAL', `${name} must be HMM_PFN_* flag bits, got ${String(v)}`);
}

/**
 * Validates `range` and returns the address space its notifier watches.
 * @throws KernelError EINVAL naming the bad field.
 */
export function checkRange(range: HmmRange): Mm {
  if (typeof range !== 'object' || range === null)
    throw new KernelError('EINVAL', `range must be an HmmRange, got ${String(range)}`);
  const { notifier, start, end, hmmPfns } = range;
  if (!(notifier instanceof MmuIntervalNotifier))
    throw new KernelError('EINVAL', `range.notifier must be an MmuIntervalNotifier`);
  if (!(notifier.mm instanceof Mm))
    throw new KernelError('EINVAL', `range.notifier must watch an Mm from @hmmkit/mm`);
  if (!Number.isSafeInteger(range.notifierSeq))
    throw new KernelError('EINVAL', `range.notifierSeq must come from readBegin()`);
  if (!Number.isSafeInteger(start) || start < 0 || start % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `range.start must be page aligned, got ${start}`);
  if (!Number.isSafeInteger(end) || end % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', `range.end must be page aligned, got ${end}`);
  if (end <= start)
    throw new KernelError('EINVAL', `range.end ${end} must be above range.start ${start}`);
  if (!(hmmPfns instanceof HmmPfns))
    throw new KernelError('EINVAL', `range.hmmPfns must be an HmmPfns`);
  const npages = (end - start) / PAGE_SIZE;
  if (hmmPfns.length < npages)
    throw new KernelError(
      'EINVAL',
      `range.hmmPfns holds ${hmmPfns.length} entries, [start, end) needs ${npages}`,
    );
  checkFlags('range.defaultFlags', range.defaultFlags);
  checkFlags('range.pfnFlagsMask', range.pfnFlagsMask);
  return notifier.mm;
}
