/**
 * Reverse mapping: every place a page is mapped (rmap_walk in mm/rmap.c). Anon pages are
 * found through the anon_vma id recorded in `mapping` and the VMAs whose anon_vma chain
 * holds it; page-cache pages through the VMAs mapping their file. Entries that stand for the
 * page count too: device-private, device-exclusive and migration entries.
 *
 * Locking: the caller holds the page lock (as rmap_walk requires) or otherwise tolerates a
 * concurrent change; the visitor runs with no lock held and must re-check the entry under
 * the PTL before changing it.
 */
import { KernelError } from '@hmmkit/runtime';
import type { Mm } from './mm.js';
import { PG_ANON, PG_FILE } from './page-flags.js';
import type { PhysicalMemory } from './physical-memory.js';
import { PTE_SPECIAL, PteKind, pteKind } from './pte.js';
import { hugePmdSlot, leafPfn, leafSlot, splitHugePmd } from './thp.js';
import type { Vma } from './vma.js';

/** One mapping of a page found by rmapWalk(). */
export interface RmapHit {
  readonly mm: Mm;
  readonly vma: Vma;
  /** Virtual address of the page in `mm`. */
  readonly address: number;
  /** Kind of the entry found there (present, device-private, device-exclusive, migration). */
  readonly kind: PteKind;
}

/**
 * Lists every mapping of `pfn`. Mirrors rmap_walk() (rmap_walk_anon / rmap_walk_file).
 * For @hmmkit/hmm, @hmmkit/device-exclusive and drivers.
 * @throws KernelError EINVAL when `pfn` is not a known frame.
 */
export function rmapWalk(memory: PhysicalMemory, pfn: number): RmapHit[] {
  if (!memory.validPfn(pfn)) throw new KernelError('EINVAL', `pfn ${pfn} is not a known frame`);
  const hits: RmapHit[] = [];
  const f = memory.flags[pfn]!;
  const id = memory.mapping[pfn]!;
  if (id === 0 || !(f & (PG_ANON | PG_FILE))) return hits;
  const index = memory.index[pfn]!;
  for (const mm of memory.mms) {
    for (const vma of mm.vmas) {
      const owns = f & PG_ANON ? vma.anonChain.includes(id) : vma.file?.id === id;
      if (!owns) continue;
      const address = vma.addressOf(index);
      if (address < 0) continue;
      const kind = entryFor(mm, address, pfn);
      if (kind !== PteKind.NONE) hits.push({ mm, vma, address, kind });
    }
  }
  return hits;
}

/** Kind of the entry at `address` if it refers to `pfn`, else NONE. */
export function entryFor(mm: Mm, address: number, pfn: number): PteKind {
  const slot = leafSlot(mm, address);
  if (slot < 0) return PteKind.NONE;
  const bits = mm.pt.bits[slot]!;
  const kind = pteKind(bits);
  if (kind === PteKind.NONE || kind === PteKind.SWAP || leafPfn(mm, address, slot) !== pfn)
    return PteKind.NONE;
  return kind === PteKind.PRESENT && bits & PTE_SPECIAL ? PteKind.NONE : kind;
}

/**
 * Splits every huge PMD mapping `pfn` (split_huge_pmd_address from the rmap walk with
 * TTU_SPLIT_HUGE_PMD), so the page can then be unmapped or migrated alone.
 */
export async function splitPmdMappings(memory: PhysicalMemory, pfn: number): Promise<void> {
  for (const hit of rmapWalk(memory, pfn))
    if (hugePmdSlot(hit.mm, hit.address) >= 0) await splitHugePmd(hit.mm, hit.address);
}
