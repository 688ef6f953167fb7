import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import type { MmuNotifierEvent, MmuNotifierRange } from '@hmmkit/mmu-notifier';

export const RW = PROT_READ | PROT_WRITE;
export const PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

export interface Setup {
  memory: PhysicalMemory;
  mm: Mm;
  /** A private anonymous read-write mapping of `pages` pages, first page written. */
  addr: number;
}

/** A process with a private anonymous mapping whose first bytes are [1, 2, 3, 4]. */
export async function setup(pages = 4, frames = 64): Promise<Setup> {
  const memory = new PhysicalMemory({ pages: frames });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(pages * PAGE_SIZE, RW, PRIV);
  await mm.write(addr, new Uint8Array([1, 2, 3, 4]));
  return { memory, mm, addr };
}

export interface Seen {
  op: 'start' | 'end';
  event: MmuNotifierEvent;
  start: number;
  end: number;
  owner: unknown;
}

/** Registers a classic notifier on `mm` that logs every start and end. */
export async function recordRanges(mm: Mm): Promise<Seen[]> {
  const log: Seen[] = [];
  const snap = (op: Seen['op'], r: MmuNotifierRange) =>
    log.push({ op, event: r.event, start: r.start, end: r.end, owner: r.owner });
  await mm.notifiers.register({
    invalidateRangeStart(_s, r) {
      snap('start', r);
      return 0;
    },
    invalidateRangeEnd(_s, r) {
      snap('end', r);
    },
  });
  return log;
}
