/**
 * A read-only, allocation-free walk over a range of an address space's page table, for
 * @hmmkit/hmm, @hmmkit/device-exclusive and drivers (the role of walk_page_range with
 * hmm_vma_walk_pmd / pte callbacks). One walker object is reused; each next() fills its
 * public fields for one page.
 *
 * Locking: the caller holds the mmap_lock (read is enough) and treats what it reads as a
 * snapshot, validated later by the notifier sequence (mmu_interval_read_retry), exactly as
 * hmm_range_fault does; the walker never takes the PTL.
 *
 * @example
 * const w = new PageTableWalker(mm);
 * w.reset(start, end);
 * while (w.next()) if (w.kind === PteKind.PRESENT && w.writable) use(w.addr, w.pfn);
 */
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE, PMD_ORDER } from './constants.js';
import type { Mm } from './mm.js';
import { PTRS_PER_TABLE } from './page-table.js';
import {
  PTE_DIRTY,
  PTE_HUGE,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
  SWP_WRITE,
} from './pte.js';
import { pmdEnd } from './zap.js';

/** Walks the entries of one address space; see the file comment. */
export class PageTableWalker {
  /** Address of the current page. */
  addr = 0;
  /** Kind of the current entry (PteKind.*). */
  kind: PteKind = PteKind.NONE;
  /** Raw entry bits (pte.ts layout). */
  bits = 0;
  /** pfn for present and device/migration entries (page of `addr` inside a PMD leaf), swap slot for SWAP. */
  pfn = 0;
  /** Mapping order: 0 for a PTE, PMD_ORDER (9) inside a PMD leaf. */
  order = 0;
  private end = 0;
  private base = -1;
  private spanEnd = 0;

  constructor(readonly mm: Mm) {}

  /**
   * Starts a walk over [start, end), both page aligned.
   * @throws KernelError EINVAL for unaligned or inverted bounds.
   */
  reset(start: number, end: number): void {
    if (!Number.isSafeInteger(start) || start < 0 || start % PAGE_SIZE !== 0)
      throw new KernelError('EINVAL', `start must be a page-aligned address, got ${start}`);
    if (!Number.isSafeInteger(end) || end < start || end % PAGE_SIZE !== 0)
      throw new KernelError('EINVAL', `end must be page aligned and >= start, got ${end}`);
    this.addr = start - PAGE_SIZE;
    this.end = end;
    this.spanEnd = start;
  }

  /** Moves to the next page; false when the range is done. Allocates nothing. */
  next(): boolean {
    const addr = this.addr + PAGE_SIZE;
    if (addr >= this.end) return false;
    this.addr = addr;
    if (addr >= this.spanEnd) this.enterSpan(addr);
    const pt = this.mm.pt;
    if (this.base === -1) return this.fill(0, 0, 0);
    if (this.base < 0) {
      const pmd = -this.base - 2;
      const head = pt.pfn[pmd]!;
      const offset = (Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE) | 0;
      return this.fill(pt.bits[pmd]!, head + offset, PMD_ORDER);
    }
    const slot = this.base + (Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE);
    return this.fill(pt.bits[slot]!, pt.pfn[slot]!, 0);
  }

  /**
   * Moves to the next page whose entry is not none, skipping absent page-table spans in one
   * step; false when the range is done. Allocates nothing.
   */
  nextEntry(): boolean {
    while (this.next()) {
      if (this.kind !== PteKind.NONE) return true;
      if (this.base === -1) this.addr = Math.min(this.end, this.spanEnd) - PAGE_SIZE;
    }
    return false;
  }

  /** pte_write() / is_writable_*_entry(). */
  get writable(): boolean {
    return this.kind === PteKind.PRESENT
      ? (this.bits & PTE_WRITE) !== 0
      : (this.bits & SWP_WRITE) !== 0;
  }

  /** pte_dirty(). */
  get dirty(): boolean {
    return (this.bits & PTE_DIRTY) !== 0;
  }

  /** pte_young(). */
  get young(): boolean {
    return (this.bits & PTE_YOUNG) !== 0;
  }

  /** pte_special(): no struct page behind (zero page, VM_PFNMAP). */
  get special(): boolean {
    return (this.bits & PTE_SPECIAL) !== 0;
  }

  /** pte_protnone(): PROT_NONE or a NUMA hint, no access. */
  get protnone(): boolean {
    return (this.bits & PTE_PROTNONE) !== 0;
  }

  private fill(bits: number, pfn: number, order: number): boolean {
    this.bits = bits;
    this.kind = pteKind(bits);
    this.pfn = pfn;
    this.order = order;
    return true;
  }

  private enterSpan(addr: number): void {
    const pt = this.mm.pt;
    const skip = pt.skipAbsent(addr);
    if (skip > addr) {
      this.base = -1;
      this.spanEnd = skip;
      return;
    }
    this.spanEnd = pmdEnd(addr);
    const pmd = pt.pmdSlot(addr, false);
    if (pmd >= 0 && pt.bits[pmd]! & PTE_HUGE) this.base = -pmd - 2;
    else this.base = pt.pteBase(addr, false);
  }
}
