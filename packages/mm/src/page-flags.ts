/**
 * Page flags kept per frame in `PhysicalMemory.flags` (a Uint32Array), after the kernel's
 * PG_* bits and the folio tests built on `mapping` (PageAnon) and the page type (PageBuddy).
 */
export const PG_LOCKED = 0x1;
export const PG_REFERENCED = 0x2;
export const PG_DIRTY = 0x4;
/** folio_test_anon(): the page belongs to an anon_vma, `mapping` holds its id. */
export const PG_ANON = 0x8;
/** folio_test_swapbacked(): cleared by MADV_FREE (lazy free). */
export const PG_SWAPBACKED = 0x10;
/** is_zone_device_page(): belongs to a device pagemap. */
export const PG_ZONE_DEVICE = 0x20;
/** First page of a compound page (THP or hugetlb). */
export const PG_HEAD = 0x40;
/** Tail page of a compound page; `mapping` holds the head pfn. */
export const PG_TAIL = 0x80;
export const PG_HUGETLB = 0x100;
/** PageAnonExclusive(): the anon page is mapped by exactly one process and may be reused. */
export const PG_ANON_EXCLUSIVE = 0x200;
/** PageBuddy(): the frame is free. */
export const PG_BUDDY = 0x400;
/** PageReserved(): the shared zero page. */
export const PG_RESERVED = 0x800;
/** A tmpfs page-cache page; `mapping` holds the file id, `index` its page offset. */
export const PG_FILE = 0x1000;
