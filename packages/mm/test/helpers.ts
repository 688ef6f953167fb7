import { MMU_NOTIFIER_RANGE_BLOCKABLE, type MmuNotifierRange } from '@hmmkit/mmu-notifier';
import { type Mm, PageTableWalker, PteKind } from '../src/index.js';

/** One notifier call as seen by a classic subscriber on the mm. */
export interface NotifierRecord {
  op: 'start' | 'end' | 'arch' | 'release';
  event: number;
  start: number;
  end: number;
  blockable: boolean;
  owner: unknown;
  /** Entry kind at `probe` when the call ran. */
  probeKind: PteKind;
  /** memory.freePages when the call ran. */
  free: number;
}

/** Kind of the entry at `addr` right now. */
export function kindAt(mm: Mm, addr: number): PteKind {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.kind;
}

/** pfn of the entry at `addr` right now (payload, any kind). */
export function pfnAt(mm: Mm, addr: number): number {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.pfn;
}

/**
 * Registers two classic notifiers on `mm` (start/end and arch_invalidate_secondary_tlbs
 * cannot share one) that log every call, with the entry kind at `probe` and the free count.
 */
export async function recordNotifiers(mm: Mm, probe = 0): Promise<NotifierRecord[]> {
  const log: NotifierRecord[] = [];
  const snap = (
    op: NotifierRecord['op'],
    r: Partial<MmuNotifierRange> & { start: number; end: number },
  ) =>
    log.push({
      op,
      event: r.event ?? -1,
      start: r.start,
      end: r.end,
      blockable: ((r.flags ?? 0) & MMU_NOTIFIER_RANGE_BLOCKABLE) !== 0,
      owner: r.owner,
      probeKind: mm.isExited && mm.vmas.length === 0 ? PteKind.NONE : kindAt(mm, probe),
      free: mm.memory.freePages,
    });
  await mm.notifiers.register({
    invalidateRangeStart(_s, r) {
      snap('start', r);
      return 0;
    },
    invalidateRangeEnd(_s, r) {
      snap('end', r);
    },
    release() {
      snap('release', { start: 0, end: 0 });
    },
  });
  await mm.notifiers.register({
    archInvalidateSecondaryTlbs(_s, _mm, start, end) {
      snap('arch', { start, end });
    },
  });
  return log;
}

/** Page-aligned bytes filled with `v`. */
export function fill(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}
