/**
 * HMM_DMIRROR_SNAPSHOT: hmm_range_fault() without fault flags over each chunk, under a
 * temporary interval notifier covering exactly that chunk, each entry turned into one
 * HMM_DMIRROR_PROT_* byte. Mirrors dmirror_snapshot(), dmirror_range_snapshot(),
 * dmirror_snapshot_invalidate() and dmirror_mkentry().
 */
import {
  HMM_PFN_ERROR,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  type HmmRange,
  hmmPfnToMapOrder,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import { PAGE_SIZE, PMD_ORDER, ZERO_PFN } from '@hmmkit/mm';
import {
  type MmuIntervalNotifier,
  type MmuNotifierRange,
  mmuNotifierRangeBlockable,
} from '@hmmkit/mmu-notifier';
import { KernelError } from '@hmmkit/runtime';
import {
  DMIRROR_CHUNK_PAGES,
  HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL,
  HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_PUD,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
} from './constants.js';
import type { Dmirror } from './dmirror.js';

/** PUD_SHIFT - PAGE_SHIFT: @hmmkit/mm maps no PUD leaves, so hmm never reports it. */
const PUD_ORDER = 18;

/** The kind part of the byte for a VALID entry on `pfn`. */
function kindOf(dmirror: Dmirror, pfn: number): number {
  const pgmap = dmirror.mm.memory.pagemapOf(pfn);
  const local = pgmap?.owner === dmirror.device;
  if (pgmap?.type === 'private')
    return local ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL : HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
  if (pgmap?.type === 'coherent')
    return local ? HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL : HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
  return pfn === ZERO_PFN ? HMM_DMIRROR_PROT_ZERO : HMM_DMIRROR_PROT_NONE;
}

/** One HMM_DMIRROR_PROT_* byte for entry `i`. Mirrors dmirror_mkentry(). */
function mkentry(dmirror: Dmirror, pfns: HmmPfns, i: number): number {
  const flags = pfns.flags[i]!;
  if (flags & HMM_PFN_ERROR) return HMM_DMIRROR_PROT_ERROR;
  if (!(flags & HMM_PFN_VALID)) return HMM_DMIRROR_PROT_NONE;
  let perm = kindOf(dmirror, pfns.pfn[i]!);
  perm |= flags & HMM_PFN_WRITE ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
  const order = hmmPfnToMapOrder(pfns, i);
  if (order === PMD_ORDER) perm |= HMM_DMIRROR_PROT_PMD;
  else if (order === PUD_ORDER) perm |= HMM_DMIRROR_PROT_PUD;
  return perm;
}

/**
 * The temporary notifier's callback: only bumps the sequence, since any invalidation in the
 * chunk spoils the whole snapshot. Mirrors dmirror_snapshot_invalidate().
 * **Context**: trylock when the range is not blockable.
 */
function snapshotInvalidate(
  dmirror: Dmirror,
  sub: MmuIntervalNotifier,
  range: MmuNotifierRange,
  cur: number,
): boolean | Promise<boolean> {
  if (mmuNotifierRangeBlockable(range)) return lockSetSeq(dmirror, sub, cur);
  if (!dmirror.mutex.trylock()) return false;
  return setSeqUnlock(dmirror, sub, cur);
}

async function lockSetSeq(
  dmirror: Dmirror,
  sub: MmuIntervalNotifier,
  cur: number,
): Promise<boolean> {
  await dmirror.mutex.lock();
  return setSeqUnlock(dmirror, sub, cur);
}

function setSeqUnlock(dmirror: Dmirror, sub: MmuIntervalNotifier, cur: number): boolean {
  sub.setSeq(cur);
  dmirror.mutex.unlock();
  return true;
}

/** dmirror_range_snapshot(): one chunk, bytes written to `out` from `off`. */
async function rangeSnapshot(
  dmirror: Dmirror,
  range: HmmRange,
  out: Uint8Array,
  off: number,
): Promise<void> {
  range.notifier = await dmirror.mm.notifiers.insertInterval(range.start, range.end - range.start, {
    invalidate: (sub, r, cur) => snapshotInvalidate(dmirror, sub, r, cur),
  });
  try {
    await hmmRangeFaultLoop(range, {
      lock: dmirror.mutex,
      program: (r) => {
        const n = (r.end - r.start) / PAGE_SIZE;
        for (let i = 0; i < n; i++) out[off + i] = mkentry(dmirror, r.hmmPfns, i);
      },
    });
  } finally {
    await range.notifier.remove();
  }
}

/**
 * Snapshots [start, end) of `dmirror`'s mm into `out`, one byte per page.
 * @throws KernelError EINVAL when the mm has exited; EBUSY when a chunk stays invalidated;
 * what hmmRangeFault() throws otherwise.
 */
export async function snapshotRange(
  dmirror: Dmirror,
  start: number,
  end: number,
  out: Uint8Array,
): Promise<void> {
  const mm = dmirror.mm;
  if (!mm.mmgetNotZero()) throw new KernelError('EINVAL', `mm ${mm.id} has exited`);
  const range: HmmRange = {
    notifier: dmirror.notifier,
    notifierSeq: 0,
    start: 0,
    end: 0,
    hmmPfns: new HmmPfns(DMIRROR_CHUNK_PAGES),
    defaultFlags: 0,
    pfnFlagsMask: 0,
    devPrivateOwner: dmirror.device,
  };
  try {
    for (let addr = start; addr < end; addr = range.end) {
      range.start = addr;
      range.end = Math.min(addr + DMIRROR_CHUNK_PAGES * PAGE_SIZE, end);
      await rangeSnapshot(dmirror, range, out, (addr - start) / PAGE_SIZE);
    }
  } finally {
    await mm.mmput();
  }
}
