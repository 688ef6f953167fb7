/**
 * mmap() of /dev/hmm_dmirrorN: dmirror_fops_mmap() fills the new VMA with freshly allocated,
 * zeroed pages through vm_insert_page(), which makes it a VM_MIXEDMAP mapping of
 * driver-owned (not anonymous) pages. hmm-tests' `mixedmap` snapshots such a mapping.
 */
import { MAP_ANONYMOUS, type Mm, PAGE_SIZE, VM_MIXEDMAP, vmInsertPage } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';

/**
 * Maps `npages` zeroed driver pages into `mm`; returns the address.
 * @throws KernelError EINVAL (npages, MAP_ANONYMOUS), ENOMEM; what Mm.mmap() throws.
 */
export async function mmapDeviceFile(
  mm: Mm,
  npages: number,
  prot: number,
  flags: number,
): Promise<number> {
  if (!Number.isSafeInteger(npages) || npages < 1 || npages > 2 ** 26)
    throw new KernelError('EINVAL', `mmapDeviceFile: npages must be in [1, 2^26], got ${npages}`);
  if (typeof flags !== 'number' || flags & MAP_ANONYMOUS)
    throw new KernelError('EINVAL', `mmapDeviceFile: flags ${flags} map no file (MAP_ANONYMOUS)`);
  // The mapping needs a file; a tmpfs file stands for the device inode. VM_MIXEDMAP makes
  // the driver the only source of pages, so the file's own contents are never used.
  const file = mm.memory.createFile(npages * PAGE_SIZE);
  let addr: number;
  try {
    addr = await mm.mmap(npages * PAGE_SIZE, prot, flags, { file, vmFlags: VM_MIXEDMAP });
  } finally {
    file.close();
  }
  // The kernel runs ->mmap inside mmap() under the mmap_lock held for write.
  await mm.mmapLock.downWrite();
  try {
    for (let i = 0; i < npages; i++) insertZeroedPage(mm, addr + i * PAGE_SIZE);
  } finally {
    mm.mmapLock.upWrite();
  }
  return addr;
}

/** alloc_page(__GFP_ZERO) + vm_insert_page() + put_page(). */
function insertZeroedPage(mm: Mm, addr: number): void {
  const pfn = mm.memory.allocPage();
  if (pfn < 0)
    throw new KernelError('ENOMEM', `mmapDeviceFile: no page for 0x${addr.toString(16)}`);
  try {
    vmInsertPage(mm, addr, pfn);
  } finally {
    mm.memory.putPage(pfn);
  }
}
