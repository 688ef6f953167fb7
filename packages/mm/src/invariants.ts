/**
 * The invariant checker for tests: recounts every page-table entry of every live address
 * space and compares with the page metadata.
 *
 * - mapcount of a frame == number of entries mapping it (present non-special PTEs,
 *   device-private and device-exclusive entries; migration entries hold no mapcount);
 * - refcount >= mapcount + pincount for a frame in use;
 * - a free frame (PG_BUDDY) has refcount 0, mapcount 0, no pins, no contents and no entry
 *   pointing at it;
 * - swap use counts == number of swap entries;
 * - the free count equals the number of PG_BUDDY frames.
 */

import { PG_BUDDY } from './page-flags.js';
import { PageTableWalker } from './page-walk.js';
import type { PhysicalMemory } from './physical-memory.js';
import { PTE_SPECIAL, PteKind } from './pte.js';

/** Returns a description of every broken invariant (empty when all hold). */
export function checkInvariants(memory: PhysicalMemory): string[] {
  const errors: string[] = [];
  const n = memory.maxPfn;
  const maps = new Int32Array(n);
  const entries = new Int32Array(n);
  const swaps = new Map<number, number>();
  for (const mm of memory.mms) {
    const w = new PageTableWalker(mm);
    for (const v of mm.vmas) {
      w.reset(v.start, v.end);
      while (w.nextEntry()) {
        if (w.kind === PteKind.SWAP) swaps.set(w.pfn, (swaps.get(w.pfn) ?? 0) + 1);
        else if (w.pfn >= n) errors.push(`mm ${mm.id} ${w.addr}: pfn ${w.pfn} out of range`);
        else {
          entries[w.pfn]!++;
          if (w.kind !== PteKind.MIGRATION && !(w.kind === PteKind.PRESENT && w.bits & PTE_SPECIAL))
            maps[w.pfn]!++;
        }
      }
    }
  }
  let free = 0;
  for (let pfn = 1; pfn < n; pfn++) checkFrame(memory, pfn, maps, entries, errors);
  for (let pfn = 1; pfn <= memory.totalPages; pfn++) if (memory.flags[pfn]! & PG_BUDDY) free++;
  if (free !== memory.freePages)
    errors.push(`freePages ${memory.freePages} but ${free} PG_BUDDY frames`);
  for (const [slot, count] of swaps)
    if (memory.swap.useCount(slot) !== count)
      errors.push(`swap slot ${slot}: use count ${memory.swap.useCount(slot)}, ${count} entries`);
  return errors;
}

function checkFrame(
  memory: PhysicalMemory,
  pfn: number,
  maps: Int32Array,
  entries: Int32Array,
  errors: string[],
): void {
  const ref = memory.refcount[pfn]!;
  const map = memory.mapcount[pfn]!;
  const pins = memory.pincount[pfn]!;
  if (memory.flags[pfn]! & PG_BUDDY) {
    if (ref !== 0 || map !== 0 || pins !== 0 || entries[pfn] !== 0 || memory.contents[pfn])
      errors.push(
        `pfn ${pfn} is free but ref ${ref} map ${map} pins ${pins} entries ${entries[pfn]}`,
      );
    return;
  }
  if (map !== maps[pfn]) errors.push(`pfn ${pfn}: mapcount ${map} but ${maps[pfn]} entries map it`);
  if (ref < map + pins) errors.push(`pfn ${pfn}: refcount ${ref} < mapcount ${map} + pins ${pins}`);
  if (ref === 0 && entries[pfn] !== 0) errors.push(`pfn ${pfn}: refcount 0 but still referenced`);
}

/**
 * Throws an Error listing every broken invariant. For tests.
 * @example
 * assertInvariants(memory);
 */
export function assertInvariants(memory: PhysicalMemory): void {
  const errors = checkInvariants(memory);
  if (errors.length > 0)
    throw new Error(`mm invariants broken:\n${errors.slice(0, 20).join('\n')}`);
}
