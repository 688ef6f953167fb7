/**
 * The migrate pfn encoding of src/dst arrays (include/linux/migrate.h): `pfn << 6 | flags`.
 * The values are the kernel's exactly; since a pfn here is below 2^31 an entry is below
 * 2^37, so it is stored as a plain number (a Float64Array cell) and built and taken apart
 * with arithmetic: only the low 6 flag bits are ever touched with bit operators.
 */
import { KernelError } from '@hmmkit/runtime';

/** The entry holds a pfn (kernel bit 0). */
export const MIGRATE_PFN_VALID = 1 << 0;
/** The page is to be migrated / was migrated (kernel bit 1). */
export const MIGRATE_PFN_MIGRATE = 1 << 1;
/** The source mapping was writable (kernel bit 3). */
export const MIGRATE_PFN_WRITE = 1 << 3;
/** Bits below the pfn (MIGRATE_PFN_SHIFT). */
export const MIGRATE_PFN_SHIFT = 6;

const SCALE = 2 ** MIGRATE_PFN_SHIFT;
const FLAG_MASK = SCALE - 1;

/**
 * The entry for `pfn`: `pfn << MIGRATE_PFN_SHIFT | MIGRATE_PFN_VALID`. Mirrors migrate_pfn().
 * @throws KernelError EINVAL when pfn is not a non-negative integer below 2^31.
 */
export function migratePfn(pfn: number): number {
  if (!Number.isInteger(pfn) || pfn < 0 || pfn >= 2 ** 31)
    throw new KernelError('EINVAL', `pfn must be an integer in [0, 2^31), got ${pfn}`);
  return pfn * SCALE + MIGRATE_PFN_VALID;
}

/** The pfn of `mpfn`, or -1 when MIGRATE_PFN_VALID is clear. Mirrors migrate_pfn_to_page(). */
export function migratePfnToPage(mpfn: number): number {
  return mpfn & MIGRATE_PFN_VALID ? Math.floor(mpfn / SCALE) : -1;
}

/** The flag bits (below MIGRATE_PFN_SHIFT) of `mpfn`. */
export function migratePfnFlags(mpfn: number): number {
  return mpfn & FLAG_MASK;
}

/** `mpfn` with flag bits `flags` cleared (`mpfn & ~flags` for flags below bit 6). */
export function migratePfnClear(mpfn: number, flags: number): number {
  return mpfn - (mpfn & FLAG_MASK & flags);
}
