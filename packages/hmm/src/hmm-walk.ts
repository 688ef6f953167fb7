/**
 * The synchronous part of hmm_range_fault(): the page walk with the hmm_walk_ops callbacks
 * (hmm_vma_walk_test, hmm_vma_walk_hole, hmm_vma_walk_pmd, hmm_vma_handle_pmd,
 * hmm_vma_handle_pte in mm/hmm.c). It fills outputs from `last` on and stops at the first
 * page that needs a fault or a migration wait, recording what to do; the async loop in
 * range-fault.ts does it and walks again from `last` (the kernel's internal -EBUSY).
 *
 * Invariant (as in the kernel): entries below `last` hold outputs, entries from `last` on
 * still hold inputs. The walk reads the page table without the PTL, as the kernel's
 * lockless walk does; the notifier sequence validates the result.
 *
 * Hot path: PTE tables are read straight from the page table's typed arrays, one PMD span
 * at a time; nothing is allocated per page.
 */
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  type Mm,
  PAGE_SIZE,
  PMD_ORDER,
  PMD_SIZE,
  PTE_HUGE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  PteKind,
  pteKind,
  SWP_WRITE,
  VM_HUGETLB,
  VM_IO,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  type Vma,
  ZERO_PFN,
} from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';
import {
  HMM_PFN_ERROR,
  HMM_PFN_INOUT_FLAGS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_VALID,
  type HmmPfns,
} from './pfn.js';
import {
  NEED_FAULT,
  NEED_WRITE_FAULT,
  pteNeedFault,
  snapshotPtes,
  VALID_WRITE,
} from './pte-snapshot.js';
import type { HmmRange } from './range.js';

const PTRS = 512;

/** Walk results. */
export const WALK_DONE = 0;
/** A fault of [faultStart, faultEnd) with faultFlags is needed, then a new walk. */
export const WALK_FAULT = 1;
/** A migration entry at `last` must be waited for, then a new walk. */
export const WALK_MIGRATION_WAIT = 2;

function pmdEnd(addr: number): number {
  return (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE;
}

/** struct hmm_vma_walk: one per hmmRangeFault() call, reused by every walk of that call. */
export class HmmWalk {
  /** First address whose entry still holds its input (hmm_vma_walk.last). */
  last: number;
  faultStart = 0;
  faultEnd = 0;
  faultFlags = 0;
  /** Entry seen at `last` when WALK_MIGRATION_WAIT was returned. */
  waitPfn = 0;
  waitBits = 0;
  private readonly start: number;
  private readonly end: number;
  private readonly pfns: HmmPfns;
  private readonly def: number;
  private readonly mask: number;
  private readonly mayFault: boolean;
  private readonly owner: unknown;

  constructor(
    readonly mm: Mm,
    range: HmmRange,
  ) {
    this.start = range.start;
    this.end = range.end;
    this.last = range.start;
    this.pfns = range.hmmPfns;
    this.def = range.defaultFlags;
    this.mask = range.pfnFlagsMask;
    this.owner = range.devPrivateOwner;
    // hmm_range_need_fault() shortcut: no page can ask for a fault.
    this.mayFault = ((this.def | this.mask) & HMM_PFN_REQ_FAULT) !== 0;
  }

  /** walk_page_range(mm, last, end): VMAs, holes between them, then each VMA's tables. */
  walk(): number {
    const mm = this.mm;
    let addr = this.last;
    while (addr < this.end) {
      const vma = mm.findVma(addr);
      if (vma === undefined || vma.start >= this.end) return this.holeNoVma(addr, this.end);
      if (vma.start > addr) {
        this.holeNoVma(addr, vma.start);
        addr = vma.start;
      }
      const vend = Math.min(this.end, vma.end);
      const r = this.walkVma(vma, addr, vend);
      if (r !== WALK_DONE) return r;
      addr = vend;
    }
    return WALK_DONE;
  }

  private walkVma(vma: Vma, start: number, end: number): number {
    if (vma.flags & (VM_IO | VM_PFNMAP) || !(vma.flags & VM_READ)) {
      // hmm_vma_walk_test(): no struct pages or no read access: error, or -EFAULT if asked.
      if (this.rangeNeedFault(start, end, 0)) throw efault(start, 'VM_IO/VM_PFNMAP/unreadable VMA');
      this.fill(start, end, 0, HMM_PFN_ERROR);
      return WALK_DONE;
    }
    if (vma.flags & VM_HUGETLB) return this.walkHugetlb(vma, start, end);
    const pt = this.mm.pt;
    for (let addr = start; addr < end; ) {
      const skip = pt.skipAbsent(addr);
      const next = Math.min(end, skip > addr ? skip : pmdEnd(addr));
      const r = skip > addr ? this.hole(vma, addr, next) : this.walkPmd(vma, addr, next);
      if (r !== WALK_DONE) return r;
      addr = next;
    }
    return WALK_DONE;
  }

  /** hmm_vma_walk_pmd(): one PMD entry covering [addr, end). */
  private walkPmd(vma: Vma, addr: number, end: number): number {
    const pt = this.mm.pt;
    const pmd = pt.pmdSlot(addr, false);
    const bits = pmd < 0 ? 0 : pt.bits[pmd]!;
    if (bits === 0) return this.hole(vma, addr, end);
    if (bits & PTE_HUGE) return this.handlePmd(vma, addr, end, bits, pt.pfn[pmd]!);
    if (!(bits & PTE_PRESENT)) {
      // A non-present PMD that is not a migration entry (mm models no PMD migration).
      if (this.rangeNeedFault(addr, end, 0)) throw efault(addr, 'non-present PMD');
      this.fill(addr, end, 0, HMM_PFN_ERROR);
      return WALK_DONE;
    }
    return this.walkPtes(vma, pt.pfn[pmd]! * PTRS, addr, end);
  }

  /** hmm_vma_handle_pmd(): a PMD leaf (THP); every page gets the same flags and order 9. */
  private handlePmd(vma: Vma, addr: number, end: number, bits: number, head: number): number {
    const cpu =
      bits & PTE_PROTNONE ? 0 : (bits & PTE_WRITE ? VALID_WRITE : HMM_PFN_VALID) | PMD_ORDER;
    const need = this.rangeNeedFault(addr, end, cpu);
    if (need) return this.fault(vma, addr, end, need);
    const first = head + (addr % PMD_SIZE) / PAGE_SIZE;
    const { pfn, flags } = this.pfns;
    const i0 = (addr - this.start) / PAGE_SIZE;
    const n = (end - addr) / PAGE_SIZE;
    for (let k = 0; k < n; k++) {
      pfn[i0 + k] = first + k;
      flags[i0 + k] = (flags[i0 + k]! & HMM_PFN_INOUT_FLAGS) | cpu;
    }
    return WALK_DONE;
  }

  /** walk_hugetlb_range(): one hugetlb leaf (2 MiB, the only size mm models) at a time. */
  private walkHugetlb(vma: Vma, start: number, end: number): number {
    for (let addr = start; addr < end; ) {
      const next = Math.min(end, pmdEnd(addr));
      const pmd = this.mm.pt.pmdSlot(addr, false);
      // No page table yet: ops->pte_hole, as for any hole.
      const r = pmd < 0 ? this.hole(vma, addr, next) : this.hugetlbEntry(vma, addr, next, pmd);
      if (r !== WALK_DONE) return r;
      addr = next;
    }
    return WALK_DONE;
  }

  /**
   * hmm_vma_walk_hugetlb_entry(): every page gets the leaf's flags and its order (9). As in
   * the kernel, whether to fault is decided from the first page's request alone, and a none
   * leaf that needs no fault still reports its pfn field with the order bits and no VALID.
   */
  private hugetlbEntry(vma: Vma, addr: number, end: number, pmd: number): number {
    const pt = this.mm.pt;
    const bits = pt.bits[pmd]!;
    const present = bits & PTE_PRESENT && !(bits & PTE_PROTNONE);
    const cpu = (present ? (bits & PTE_WRITE ? VALID_WRITE : HMM_PFN_VALID) : 0) | PMD_ORDER;
    const i0 = (addr - this.start) / PAGE_SIZE;
    const { pfn, flags } = this.pfns;
    const need = this.mayFault ? pteNeedFault((flags[i0]! & this.mask) | this.def, cpu) : 0;
    if (need) return this.fault(vma, addr, end, need);
    const first = pt.pfn[pmd]! + (addr % PMD_SIZE) / PAGE_SIZE;
    const n = (end - addr) / PAGE_SIZE;
    for (let k = 0; k < n; k++) {
      pfn[i0 + k] = first + k;
      flags[i0 + k] = (flags[i0 + k]! & HMM_PFN_INOUT_FLAGS) | cpu;
    }
    return WALK_DONE;
  }

  /** The hmm_vma_handle_pte() loop over one PTE table: fast loop, slow pages out of line. */
  private walkPtes(vma: Vma, base: number, addr: number, end: number): number {
    const pt = this.mm.pt;
    const { pfn: outPfn, flags: outFlags } = this.pfns;
    // Small integers so V8 indexes the typed arrays with Smis; `& 511` instead of `% 512`
    // (exact: ToInt32 keeps the low bits of the page number) avoids a slow double modulo.
    const n = ((end - addr) / PAGE_SIZE) | 0;
    const i0 = ((addr - this.start) / PAGE_SIZE) | 0;
    const s0 = base + ((addr / PAGE_SIZE) & (PTRS - 1));
    for (let k = 0; k < n; k++) {
      k = snapshotPtes(pt.bits, pt.pfn, s0, outPfn, outFlags, i0, k, n, this.mask, this.def);
      if (k === n) break;
      const r = this.handlePte(
        vma,
        addr + k * PAGE_SIZE,
        end,
        i0 + k,
        pt.bits[s0 + k]!,
        pt.pfn[s0 + k]!,
      );
      if (r !== WALK_DONE) return r;
    }
    return WALK_DONE;
  }

  /** hmm_vma_handle_pte() for one entry that snapshotPtes() left to the slow path. */
  private handlePte(vma: Vma, addr: number, end: number, i: number, b: number, pfn: number) {
    const flags = this.pfns.flags;
    const req = (flags[i]! & this.mask) | this.def;
    let p = pfn;
    let cpu = 0;
    if (b & PTE_PRESENT) {
      cpu = b & PTE_PROTNONE ? 0 : b & PTE_WRITE ? VALID_WRITE : HMM_PFN_VALID;
      const need = pteNeedFault(req, cpu);
      if (need) return this.fault(vma, addr, end, need);
      if (b & PTE_SPECIAL && p !== ZERO_PFN) {
        // No struct page behind (vm_normal_page() is NULL) and not the zero page.
        if (pteNeedFault(req, 0)) throw efault(addr, 'special PTE');
        cpu = HMM_PFN_ERROR;
        p = 0;
      }
    } else if (b !== 0) {
      const r = this.nonPresent(vma, addr, end, req, b, p);
      if (r < 0) return -r;
      cpu = r;
      if (cpu === 0) p = 0;
    } else {
      const need = pteNeedFault(req, 0);
      if (need) return this.fault(vma, addr, end, need);
      p = 0;
    }
    this.pfns.pfn[i] = p;
    flags[i] = (flags[i]! & HMM_PFN_INOUT_FLAGS) | cpu;
    return WALK_DONE;
  }

  /**
   * A non-present PTE: the output flags (0 = none) or the negated walk result to return.
   * Device-private pages of the caller's owner are reported and never faulted.
   */
  private nonPresent(vma: Vma, addr: number, end: number, req: number, b: number, p: number) {
    const kind = pteKind(b);
    if (kind === PteKind.DEVICE_PRIVATE && this.ownsDevicePage(p))
      return b & SWP_WRITE ? VALID_WRITE : HMM_PFN_VALID;
    const need = pteNeedFault(req, 0);
    if (!need) return 0;
    switch (kind) {
      case PteKind.SWAP:
      case PteKind.DEVICE_PRIVATE:
      case PteKind.DEVICE_EXCLUSIVE:
        return -this.fault(vma, addr, end, need);
      case PteKind.MIGRATION:
        this.last = addr;
        this.waitPfn = p;
        this.waitBits = b;
        return -WALK_MIGRATION_WAIT;
      default:
        throw efault(addr, `non-present entry of kind ${kind}`);
    }
  }

  private ownsDevicePage(pfn: number): boolean {
    const owner = this.owner;
    return owner !== undefined && this.mm.memory.pagemapOf(pfn)?.owner === owner;
  }

  /** hmm_vma_walk_hole() inside a VMA: none entries, faulted if asked. */
  private hole(vma: Vma, addr: number, end: number): number {
    const need = this.rangeNeedFault(addr, end, 0);
    if (need) return this.fault(vma, addr, end, need);
    this.fill(addr, end, 0, 0);
    return WALK_DONE;
  }

  /** hmm_vma_walk_hole() with no VMA: an error, -EFAULT if a fault was asked. */
  private holeNoVma(addr: number, end: number): number {
    if (this.rangeNeedFault(addr, end, 0)) throw efault(addr, 'no VMA');
    this.fill(addr, end, 0, HMM_PFN_ERROR);
    return WALK_DONE;
  }

  /**
   * hmm_vma_fault(): records `last` and the sub-range every page of which the async loop
   * faults (the kernel faults the whole remaining sub-range, not only the pages asked).
   * @throws KernelError EPERM for a write fault on a VMA without VM_WRITE.
   */
  private fault(vma: Vma, addr: number, end: number, need: number): number {
    this.last = addr;
    let flags = FAULT_FLAG_REMOTE;
    if (need & NEED_WRITE_FAULT) {
      if (!(vma.flags & VM_WRITE))
        throw new KernelError('EPERM', `write requested at ${addr} in a VMA without VM_WRITE`);
      flags |= FAULT_FLAG_WRITE;
    }
    this.faultStart = addr;
    this.faultEnd = end;
    this.faultFlags = flags;
    return WALK_FAULT;
  }

  /** hmm_range_need_fault(): OR of pteNeedFault over the inputs of [addr, end). */
  private rangeNeedFault(addr: number, end: number, cpu: number): number {
    if (!this.mayFault) return 0;
    const flags = this.pfns.flags;
    const i0 = (addr - this.start) / PAGE_SIZE;
    const n = (end - addr) / PAGE_SIZE;
    let need = 0;
    for (let k = 0; k < n && need !== (NEED_FAULT | NEED_WRITE_FAULT); k++)
      need |= pteNeedFault((flags[i0 + k]! & this.mask) | this.def, cpu);
    return need;
  }

  /** hmm_pfns_fill(): outputs `pfn`/`cpu` for [addr, end), sticky bits kept. */
  private fill(addr: number, end: number, pfn: number, cpu: number): void {
    const { pfn: outPfn, flags } = this.pfns;
    const i0 = (addr - this.start) / PAGE_SIZE;
    const i1 = (end - this.start) / PAGE_SIZE;
    outPfn.fill(pfn, i0, i1);
    for (let i = i0; i < i1; i++) flags[i] = (flags[i]! & HMM_PFN_INOUT_FLAGS) | cpu;
  }
}

function efault(addr: number, why: string): KernelError {
  return new KernelError('EFAULT', `cannot fault ${why} at ${addr}`);
}
