import { HmmPfns, type HmmRange, hmmRangeFault } from '@hmmkit/hmm';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import type { MmuIntervalNotifier } from '@hmmkit/mmu-notifier';

export const PAGE = PAGE_SIZE;
export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** A machine with one process. */
export function machine(pages = 1024): { memory: PhysicalMemory; mm: Mm } {
  const memory = new PhysicalMemory({ pages });
  return { memory, mm: Mm.create(memory) };
}

/** An interval notifier over [start, start + length) whose callback only moves the sequence. */
export function mirror(mm: Mm, start: number, length: number): Promise<MmuIntervalNotifier> {
  return mm.notifiers.insertInterval(start, length, {
    invalidate(sub, _range, cur) {
      sub.setSeq(cur);
      return true;
    },
  });
}

export interface CallOptions {
  defaultFlags?: number;
  pfnFlagsMask?: number;
  owner?: unknown;
  /** Per-page input flags (index → flags). */
  input?: Record<number, number>;
}

/** A range over [start, end) with its own hmm_pfns, not yet faulted. */
export function rangeOf(
  sub: MmuIntervalNotifier,
  start: number,
  end: number,
  o: CallOptions = {},
): HmmRange {
  const hmmPfns = new HmmPfns((end - start) / PAGE);
  for (const [i, f] of Object.entries(o.input ?? {})) hmmPfns.flags[Number(i)] = f;
  return {
    notifier: sub,
    notifierSeq: 0,
    start,
    end,
    hmmPfns,
    defaultFlags: o.defaultFlags ?? 0,
    pfnFlagsMask: o.pfnFlagsMask ?? 0,
    devPrivateOwner: o.owner,
  };
}

/** readBegin + mmap read lock + hmmRangeFault + unlock; returns the range. */
export async function rangeFault(
  mm: Mm,
  sub: MmuIntervalNotifier,
  start: number,
  end: number,
  o: CallOptions = {},
): Promise<HmmRange> {
  const range = rangeOf(sub, start, end, o);
  range.notifierSeq = await sub.readBegin();
  await mm.mmapLock.downRead();
  try {
    await hmmRangeFault(range);
  } finally {
    mm.mmapLock.upRead();
  }
  return range;
}

/** Runs `fn` with the mmap_lock held for write (for states mm builds no other way). */
export async function withWriteLock<T>(mm: Mm, fn: () => T): Promise<T> {
  await mm.mmapLock.downWrite();
  try {
    return fn();
  } finally {
    mm.mmapLock.upWrite();
  }
}

/** Runs `fn` with the page-table lock held. */
export function withPtl<T>(mm: Mm, fn: () => T): T {
  mm.ptl.lock();
  try {
    return fn();
  } finally {
    mm.ptl.unlock();
  }
}
