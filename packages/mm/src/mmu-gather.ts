/**
 * Deferred page freeing for zaps (struct mmu_gather, mm/mmu_gather.c): pages whose PTEs were
 * cleared are collected and released only after the TLBs (CPU and secondary) are flushed,
 * because another CPU or a device may still hold a translation until then.
 *
 * Order (as unmap_region / zap_page_range_single): notifier start → PTEs cleared and pages
 * gathered → notifier end → finish(): archInvalidateSecondaryTlbs → pages put.
 */
import type { Mm } from './mm.js';

/** struct mmu_gather: pages whose entries were cleared, freed after the TLB flush. */
export class MmuGather {
  private pfns = new Int32Array(512);
  private n = 0;
  /** Lowest and highest address whose entry changed (tlb->start / tlb->end). */
  start = Number.POSITIVE_INFINITY;
  end = 0;

  constructor(readonly mm: Mm) {}

  /** Queues one page reference to drop after the flush (__tlb_remove_page). */
  removePage(pfn: number): void {
    if (this.n === this.pfns.length) {
      const next = new Int32Array(this.n * 2);
      next.set(this.pfns);
      this.pfns = next;
    }
    this.pfns[this.n++] = pfn;
  }

  /** Records that the entries of [start, end) changed (tlb_flush_pte_range). */
  track(start: number, end: number): void {
    if (start < this.start) this.start = start;
    if (end > this.end) this.end = end;
  }

  /** Flushes the TLBs for the tracked range, then drops the page references (tlb_finish_mmu). */
  finish(): void {
    if (this.end > this.start) this.mm.notifiers.archInvalidateSecondaryTlbs(this.start, this.end);
    const memory = this.mm.memory;
    for (let i = 0; i < this.n; i++) memory.putPage(this.pfns[i]!);
    this.n = 0;
    this.start = Number.POSITIVE_INFINITY;
    this.end = 0;
  }
}
