/**
 * Page-table entry encoding. Every entry is two parallel typed-array cells: a 32-bit `pfn`
 * (for upper levels: the child table id) and 16 `bits`:
 *
 * | bit(s) | present entry            | non-present entry (PRESENT clear)          |
 * | ------ | ------------------------ | ------------------------------------------ |
 * | 0      | PTE_PRESENT              | 0                                          |
 * | 1      | PTE_WRITE                | –                                          |
 * | 2      | PTE_DIRTY                | –                                          |
 * | 3      | PTE_YOUNG (accessed)     | –                                          |
 * | 4      | PTE_SPECIAL (no struct page: zero page, pfn maps) | –                 |
 * | 5      | PTE_PROTNONE (PROT_NONE or NUMA hint; no access) | –                   |
 * | 6      | PTE_SOFT_DIRTY           | PTE_SOFT_DIRTY (kept in swap entries)      |
 * | 7      | PTE_HUGE (PMD leaf)      | –                                          |
 * | 8..10  | 0                        | entry type (SWP_*), payload in `pfn`       |
 * | 11     | –                        | SWP_WRITE (writable migration/device-private entry) |
 *
 * An all-zero entry is pte_none(). Non-present payloads: SWAP holds the swap slot, the other
 * types hold the pfn of the page they stand for (the page keeps its mapcount for
 * DEVICE_PRIVATE and DEVICE_EXCLUSIVE, not for MIGRATION, as in the kernel).
 */

export const PTE_PRESENT = 0x1;
export const PTE_WRITE = 0x2;
export const PTE_DIRTY = 0x4;
export const PTE_YOUNG = 0x8;
export const PTE_SPECIAL = 0x10;
export const PTE_PROTNONE = 0x20;
export const PTE_SOFT_DIRTY = 0x40;
export const PTE_HUGE = 0x80;
export const SWP_TYPE_SHIFT = 8;
export const SWP_TYPE_MASK = 0x700;
export const SWP_WRITE = 0x800;

/** Kind of a page-table entry, as reported by the walker. */
export const PteKind = {
  /** pte_none(): nothing mapped, nothing recorded. */
  NONE: 0,
  /** pte_present(): a page (or the zero page / a special pfn) is mapped. */
  PRESENT: 1,
  /** A swap entry: payload is the swap slot. */
  SWAP: 2,
  /** A migration entry (is_migration_entry): payload is the pfn being migrated. */
  MIGRATION: 3,
  /** A device-private entry (is_device_private_entry): payload is the device pfn. */
  DEVICE_PRIVATE: 4,
  /** A device-exclusive entry (is_device_exclusive_entry): payload is the pfn. */
  DEVICE_EXCLUSIVE: 5,
} as const;
/** One of the {@link PteKind} values. */
export type PteKind = (typeof PteKind)[keyof typeof PteKind];

/** Entry kind of `bits`. */
export function pteKind(bits: number): PteKind {
  if (bits === 0) return PteKind.NONE;
  if (bits & PTE_PRESENT) return PteKind.PRESENT;
  return ((bits & SWP_TYPE_MASK) >> SWP_TYPE_SHIFT) as PteKind;
}

/** Bits of a non-present entry of `kind`, writable or not, keeping soft-dirty. */
export function swpBits(kind: PteKind, writable: boolean, softDirty = false): number {
  return (kind << SWP_TYPE_SHIFT) | (writable ? SWP_WRITE : 0) | (softDirty ? PTE_SOFT_DIRTY : 0);
}
