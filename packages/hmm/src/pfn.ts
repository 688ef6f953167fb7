/**
 * The hmm_pfns array and the HMM_PFN_* flags (include/linux/hmm.h, v6.17 layout).
 *
 * The kernel packs each entry in one 64-bit word: the pfn in bits 0..52, the mapping order
 * in bits 53..57 and the flags in bits 58..63. JavaScript bit operators work on 32 bits, so
 * an entry lives here in two parallel typed arrays, both exact:
 *
 * | cell            | holds                      | kernel bits | why it is exact                 |
 * | --------------- | -------------------------- | ----------- | ------------------------------- |
 * | `pfn[i]`        | the pfn field              | 0..52       | Float64Array: integers < 2^53   |
 * | `flags[i]`      | `entry >> 53` (11 bits)    | 53..63      | Uint16Array: bit n = kernel 53+n |
 *
 * So every HMM_PFN_* constant below is the kernel constant shifted right by
 * HMM_PFN_FLAGS_SHIFT (53): HMM_PFN_VALID (kernel bit 63) is `1 << 10` in `flags[i]`.
 * hmmPfnGet()/hmmPfnSet() convert one entry to and from the kernel's exact 64-bit value.
 *
 * Locking: the array belongs to the caller. Outputs may be used only under the driver's
 * update lock after mmu_interval_read_retry() said false (the pages are not referenced).
 */
import { KernelError } from '@hmmkit/runtime';

/** Kernel bit position of the first flag bit (HMM_PFN_ORDER_SHIFT = BITS_PER_LONG - 11). */
export const HMM_PFN_FLAGS_SHIFT = 53;
/** Output: the pfn is valid and at least readable (kernel bit 63). Input: HMM_PFN_REQ_FAULT. */
export const HMM_PFN_VALID = 1 << 10;
/** Output: the CPU mapping is writable (kernel bit 62). Input: HMM_PFN_REQ_WRITE. */
export const HMM_PFN_WRITE = 1 << 9;
/** Output: the address cannot be accessed (kernel bit 61). */
export const HMM_PFN_ERROR = 1 << 8;
/** Sticky in → out: the pfn is DMA mapped (kernel bit 60, set by hmm_dma_map_pfn). */
export const HMM_PFN_DMA_MAPPED = 1 << 7;
/** Sticky in → out: peer-to-peer page through the host bridge (kernel bit 59). */
export const HMM_PFN_P2PDMA = 1 << 6;
/** Sticky in → out: bus-address peer-to-peer mapping (kernel bit 58). */
export const HMM_PFN_P2PDMA_BUS = 1 << 5;
/** The order field (kernel bits 53..57): log2 of the pages the CPU maps at once. */
export const HMM_PFN_ORDER_MASK = 0x1f;
/** Flags preserved from input to output (HMM_PFN_INOUT_FLAGS). */
export const HMM_PFN_INOUT_FLAGS = HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS;
/** Input: fault the page in so it is at least readable (= HMM_PFN_VALID, kernel bit 63). */
export const HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
/** Input: fault the page in writable; only honoured with HMM_PFN_REQ_FAULT (= bit 62). */
export const HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
/** Every flag bit (HMM_PFN_FLAGS, kernel bits 53..63): all of `flags[i]`. */
export const HMM_PFN_FLAGS = 0x7ff;

const TWO_53 = 2 ** 53;
const BIG_SHIFT = 53n;

/**
 * One hmm_pfns array: `npages` entries in the split layout of the file comment.
 *
 * @example
 * const pfns = new HmmPfns(16);
 * pfns.flags.fill(HMM_PFN_REQ_FAULT);   // input: fault every page readable
 */
export class HmmPfns {
  /** The pfn field of each entry (kernel bits 0..52). */
  readonly pfn: Float64Array;
  /** The flag and order bits of each entry (kernel bits 53..63, shifted down by 53). */
  readonly flags: Uint16Array;

  /**
   * Allocates `npages` zeroed entries.
   * @throws KernelError EINVAL when npages is not a non-negative safe integer.
   */
  constructor(npages: number) {
    if (!Number.isSafeInteger(npages) || npages < 0 || npages >= 2 ** 31)
      throw new KernelError('EINVAL', `npages must be an integer in [0, 2^31), got ${npages}`);
    this.pfn = new Float64Array(npages);
    this.flags = new Uint16Array(npages);
  }

  /** Number of entries. */
  get length(): number {
    return this.flags.length;
  }
}

function checkIndex(pfns: HmmPfns, i: number): void {
  if (!(pfns instanceof HmmPfns))
    throw new KernelError('EINVAL', `pfns must be an HmmPfns, got ${String(pfns)}`);
  if (!Number.isInteger(i) || i < 0 || i >= pfns.length)
    throw new KernelError('EINVAL', `index must be in [0, ${pfns.length}), got ${i}`);
}

/**
 * The entry `i` as the kernel's exact 64-bit value.
 * @throws KernelError EINVAL for a bad array or index.
 */
export function hmmPfnGet(pfns: HmmPfns, i: number): bigint {
  checkIndex(pfns, i);
  return (BigInt(pfns.flags[i]!) << BIG_SHIFT) | BigInt(pfns.pfn[i]!);
}

/**
 * Stores the kernel's 64-bit value `value` as entry `i`.
 * @throws KernelError EINVAL for a bad array or index, or a value outside [0, 2^64).
 */
export function hmmPfnSet(pfns: HmmPfns, i: number, value: bigint): void {
  checkIndex(pfns, i);
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n)
    throw new KernelError('EINVAL', `value must be a u64 bigint, got ${String(value)}`);
  pfns.flags[i] = Number(value >> BIG_SHIFT);
  pfns.pfn[i] = Number(value & ((1n << BIG_SHIFT) - 1n));
}

/**
 * The page (pfn) of a valid entry: `entry & ~HMM_PFN_FLAGS`. Mirrors hmm_pfn_to_page()
 * (a pfn stands for its struct page in this model). Test HMM_PFN_VALID first, as the
 * kernel requires.
 * @throws KernelError EINVAL for a bad array or index.
 */
export function hmmPfnToPage(pfns: HmmPfns, i: number): number {
  checkIndex(pfns, i);
  return pfns.pfn[i]!;
}

/** Physical address of entry `i` (pfn * PAGE_SIZE). Mirrors hmm_pfn_to_phys(). */
export function hmmPfnToPhys(pfns: HmmPfns, i: number): number {
  const phys = hmmPfnToPage(pfns, i) * 4096;
  if (phys >= TWO_53) throw new KernelError('EOVERFLOW', `physical address of pfn beyond 2^53`);
  return phys;
}

/**
 * log2 of the number of pages the CPU maps together with entry `i` (0 for a PTE, 9 for a
 * PMD, 18 for a PUD). Mirrors hmm_pfn_to_map_order(). Valid only for a VALID entry.
 * @throws KernelError EINVAL for a bad array or index.
 */
export function hmmPfnToMapOrder(pfns: HmmPfns, i: number): number {
  checkIndex(pfns, i);
  return pfns.flags[i]! & HMM_PFN_ORDER_MASK;
}
