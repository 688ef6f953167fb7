/**
 * make_device_exclusive_range() (mm/rmap.c, v5.14 to v6.14): the range shape of the API,
 * built on the per-page makeDeviceExclusive() as drivers did when v6.15 removed it.
 */
import type { Mm } from '@hmmkit/mm';
import { PAGE_SIZE } from '@hmmkit/mm';
import { isKernelError, KernelError } from '@hmmkit/runtime';
import type { DeviceExclusivePage } from './exclusive-page.js';
import { makeDeviceExclusive } from './make-device-exclusive.js';
import { checkAddress, checkMm } from './validate.js';

/** Result of makeDeviceExclusiveRange(). */
export interface DeviceExclusiveRange {
  /** Pages found by GUP from `start` (the old return value `npages`). */
  count: number;
  /**
   * One slot per page found: the locked and referenced page, or null when that page could
   * not be made exclusive (not anonymous), as the old `pages[i] == NULL`.
   */
  pages: (DeviceExclusivePage | null)[];
}

/**
 * Makes every page of [start, end) device-exclusive for `owner`. Mirrors
 * make_device_exclusive_range() (pre-v6.15 shape: a count and a pages array).
 *
 * **Details**: the walk stops at the first page GUP cannot fault in; if that is the first
 * page the error is thrown (GUP's -errno), otherwise `count` is the number of pages before
 * it. A page that is not anonymous gets a null slot and the walk goes on. Each non-null
 * page must be unlocked and put by the caller.
 *
 * **Locking**: the caller holds `mm.mmapLock` for read; may sleep.
 * @throws KernelError EINVAL (bad mm, unaligned or empty range), and the errors of
 * makeDeviceExclusive() for the first page.
 */
export async function makeDeviceExclusiveRange(
  mm: Mm,
  start: number,
  end: number,
  owner: unknown,
): Promise<DeviceExclusiveRange> {
  checkMm(mm);
  checkAddress('start', start);
  checkAddress('end', end);
  if (start % PAGE_SIZE !== 0 || end % PAGE_SIZE !== 0 || end <= start)
    throw new KernelError('EINVAL', `[${start}, ${end}) must be a non-empty page-aligned range`);
  mm.mmapLock.assertHeld();
  const pages: (DeviceExclusivePage | null)[] = [];
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    try {
      pages.push(await makeDeviceExclusive(mm, addr, owner));
    } catch (e) {
      if (isKernelError(e, 'EOPNOTSUPP')) pages.push(null);
      else if (pages.length > 0 && isKernelError(e)) break;
      else throw e;
    }
  }
  return { count: pages.length, pages };
}
