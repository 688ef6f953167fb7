/**
 * A 4-level x86-64 page table (PGD → PUD → PMD → PTE, 512 entries per level) stored in two
 * growable typed arrays shared by all tables of one address space: `pfn[slot]` and
 * `bits[slot]`, where `slot = tableId * 512 + index`. Table 0 is the PGD. An upper-level
 * entry with PTE_PRESENT (and not PTE_HUGE) points to the child table whose id is in `pfn`.
 * A PMD entry with PTE_PRESENT | PTE_HUGE is a PMD leaf (THP) mapping 512 pages from `pfn`.
 *
 * Locking: entries are written under the owning Mm's page-table lock (`mm.ptl`); tables
 * are allocated (pte_alloc) and freed (free_pgtables) under the mmap_lock plus the PTL.
 * Readers outside the PTL must tolerate concurrent changes (as the kernel's lockless walks).
 */
import { PTE_HUGE, PTE_PRESENT } from './pte.js';

export const PTRS_PER_TABLE = 512;
const L4_SPAN = 2 ** 27; // pages covered by one PGD entry

/**
 * The page table of one address space (pgd_t *mm->pgd and everything below it). Read it
 * through PageTableWalker; write entries only under the owning Mm's PTL.
 */
export class PageTable {
  /** Payload cell of every slot: pfn, swap slot or child table id. */
  pfn: Int32Array;
  /** Flag cell of every slot (see pte.ts). */
  bits: Uint16Array;
  private nextTable = 1;
  private readonly freeTables: number[] = [];
  private liveTables = 1;

  constructor(initialTables = 8) {
    this.pfn = new Int32Array(initialTables * PTRS_PER_TABLE);
    this.bits = new Uint16Array(initialTables * PTRS_PER_TABLE);
  }

  /** Number of page-table pages in use, PGD included (mm_pgtables_bytes / PAGE_SIZE). */
  get tables(): number {
    return this.liveTables;
  }

  /** Slot of the PMD entry covering `addr`, or -1 when a table on the way is missing. */
  pmdSlot(addr: number, alloc: boolean): number {
    const vpn = Math.floor(addr / 4096);
    const l4 = Math.floor(vpn / L4_SPAN);
    const low = vpn - l4 * L4_SPAN;
    const pud = this.child(l4, alloc);
    if (pud < 0) return -1;
    const pmd = this.child(pud * PTRS_PER_TABLE + (low >>> 18), alloc);
    if (pmd < 0) return -1;
    return pmd * PTRS_PER_TABLE + ((low >>> 9) & 511);
  }

  /**
   * First slot of the PTE table covering `addr` (add `vpn & 511` for the entry), -1 when
   * missing and not allocated, -2 when the PMD is a huge leaf.
   */
  pteBase(addr: number, alloc: boolean): number {
    const pmd = this.pmdSlot(addr, alloc);
    if (pmd < 0) return -1;
    if (this.bits[pmd]! & PTE_HUGE) return -2;
    const pte = this.child(pmd, alloc);
    return pte < 0 ? -1 : pte * PTRS_PER_TABLE;
  }

  /** Slot of the PTE for `addr`, or a negative value as for pteBase(). */
  pteSlot(addr: number, alloc: boolean): number {
    const base = this.pteBase(addr, alloc);
    return base < 0 ? base : base + (Math.floor(addr / 4096) & 511);
  }

  /**
   * `addr` when the PMD table covering it exists, else the end of the absent PGD/PUD span
   * holding it, so range walks skip unpopulated gigabytes in one step.
   */
  skipAbsent(addr: number): number {
    const vpn = Math.floor(addr / 4096);
    const l4 = Math.floor(vpn / L4_SPAN);
    if (!(this.bits[l4]! & PTE_PRESENT)) return (l4 + 1) * L4_SPAN * 4096;
    const low = vpn - l4 * L4_SPAN;
    const pud = this.pfn[l4]! * PTRS_PER_TABLE + (low >>> 18);
    if (!(this.bits[pud]! & PTE_PRESENT))
      return (l4 * L4_SPAN + ((low >>> 18) + 1) * 2 ** 18) * 4096;
    return addr;
  }

  /** Frees every table but the PGD (end of exit_mmap's free_pgtables). */
  reset(): void {
    this.bits.fill(0, 0, PTRS_PER_TABLE);
    this.pfn.fill(0, 0, PTRS_PER_TABLE);
    this.freeTables.length = 0;
    this.nextTable = 1;
    this.liveTables = 1;
  }

  /** Whether every entry of the table whose first slot is `base` is none. */
  tableEmpty(base: number): boolean {
    const bits = this.bits;
    for (let i = base; i < base + PTRS_PER_TABLE; i++) if (bits[i] !== 0) return false;
    return true;
  }

  /** Frees the PTE table under the PMD entry `pmdSlot` (free_pte_range); it must be empty. */
  freePteTable(pmdSlot: number): void {
    const id = this.pfn[pmdSlot]!;
    this.bits[pmdSlot] = 0;
    this.pfn[pmdSlot] = 0;
    this.freeTables.push(id);
    this.liveTables--;
  }

  /** Allocates an empty table, standing for an empty PTE table installed under a PMD. */
  allocTable(): number {
    const id = this.freeTables.pop() ?? this.nextTable++;
    if ((id + 1) * PTRS_PER_TABLE > this.bits.length) this.grow();
    this.pfn.fill(0, id * PTRS_PER_TABLE, (id + 1) * PTRS_PER_TABLE);
    this.bits.fill(0, id * PTRS_PER_TABLE, (id + 1) * PTRS_PER_TABLE);
    this.liveTables++;
    return id;
  }

  private child(slot: number, alloc: boolean): number {
    if (this.bits[slot]! & PTE_PRESENT) return this.pfn[slot]!;
    if (!alloc) return -1;
    const id = this.allocTable();
    this.pfn[slot] = id;
    this.bits[slot] = PTE_PRESENT;
    return id;
  }

  private grow(): void {
    const pfn = new Int32Array(this.pfn.length * 2);
    const bits = new Uint16Array(this.bits.length * 2);
    pfn.set(this.pfn);
    bits.set(this.bits);
    this.pfn = pfn;
    this.bits = bits;
  }
}
