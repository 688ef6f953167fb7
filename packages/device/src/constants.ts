/**
 * Device page-table permission bits and access kinds. The bits play the role of test_hmm's
 * xarray tags on a dmirror page-table entry (no tag = read-only, DPT_XA_TAG_WRITE,
 * DPT_XA_TAG_ATOMIC) and of a GPU PTE's R/W/atomic bits.
 */

/** The device may read the page (every valid entry has it). */
export const DEVICE_PTE_READ = 0x1;
/** The device may write the page. */
export const DEVICE_PTE_WRITE = 0x2;
/** The device may perform atomics on the page (device-exclusive or device-local memory). */
export const DEVICE_PTE_ATOMIC = 0x4;
/** Every permission bit. */
export const DEVICE_PTE_PERMS = DEVICE_PTE_READ | DEVICE_PTE_WRITE | DEVICE_PTE_ATOMIC;

/** What a device access needs: a read, a write, or an atomic read-modify-write. */
export type DeviceAccess = 'read' | 'write' | 'atomic';
