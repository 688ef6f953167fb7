import { MMU_NOTIFIER_RANGE_BLOCKABLE, type MmuNotifierRange } from '@hmmkit/mmu-notifier';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
  PteKind,
} from '../src/index.js';

export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/**
 * A 64-page machine and one private anonymous read-write mapping of `pages`
 * pages (at `addr` when given), its first `filled` pages written with `byte`.
 */
export async function anonSetup(pages: number, filled = 0, byte = 0, addr?: number) {
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const a = await mm.mmap(pages * 4096, RW, ANON, addr === undefined ? undefined : { addr });
  if (filled > 0) await mm.write(a, fill(filled * 4096, byte));
  return { memory, mm, a };
}

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
