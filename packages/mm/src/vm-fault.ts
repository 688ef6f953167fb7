/** The fault descriptor handed to fault hooks (struct vm_fault). */
import type { Mm } from './mm.js';
import type { PteKind } from './pte.js';
import type { Vma } from './vma.js';

/**
 * What a hook needs to resolve a fault: the address space, the VMA, the faulting page
 * address, the FAULT_FLAG_* bits and the entry found (kind, payload pfn, raw bits).
 * Mirrors struct vm_fault (vma, address, flags, orig_pte).
 */
export interface VmFault {
  readonly mm: Mm;
  readonly vma: Vma;
  /** Page-aligned faulting address. */
  readonly address: number;
  readonly flags: number;
  /** Entry kind found when the fault started (orig_pte). */
  readonly kind: PteKind;
  /** Payload of that entry: pfn, or swap slot for SWAP. */
  readonly pfn: number;
  /** Raw bits of that entry. */
  readonly bits: number;
}
