import {
  DeviceExclusivePage,
  installDeviceExclusiveOps,
  makeDeviceExclusive,
  makeDeviceExclusiveRange,
  removeDeviceExclusiveEntry,
} from '@hmmkit/device-exclusive';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PteKind,
  VM_HUGETLB,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
  Vma,
  type VmFault,
} from '@hmmkit/mm';
import { RuntimeViolation } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { entryAt, withMmapRead } from './device.js';
import { PRIV, RW, setup } from './helpers.js';

describe('makeDeviceExclusive rejects bad input with the kernel errno', () => {
  it.each([
    ['a non-Mm', {}],
    ['undefined', undefined],
  ])('EINVAL for mm = %s', async (_n, bad) => {
    await expect(makeDeviceExclusive(bad as never, 0, 'dev')).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('mm must be an Mm'),
    });
  });

  it.each([-4096, 1.5, Number.NaN, 2 ** 60])('EINVAL for addr = %s', async (addr) => {
    const { mm } = await setup();
    await expect(
      withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev')),
    ).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('addr') });
  });

  it('asserts the mmap_lock is held (mmap_assert_locked)', async () => {
    const { mm, addr } = await setup();
    await expect(makeDeviceExclusive(mm, addr, 'dev')).rejects.toBeInstanceOf(RuntimeViolation);
    expect(entryAt(mm, addr).kind).toBe(PteKind.PRESENT);
  });

  it('EFAULT where no VMA maps the address', async () => {
    const { mm, addr } = await setup();
    await expect(
      withMmapRead(mm, () => makeDeviceExclusive(mm, addr + 64 * PAGE_SIZE, 'dev')),
    ).rejects.toMatchObject({ code: 'EFAULT' });
  });

  it('EFAULT on a read-only mapping (FOLL_WRITE without FOLL_FORCE)', async () => {
    const { mm } = await setup();
    const ro = await mm.mmap(PAGE_SIZE, PROT_READ, PRIV);
    await expect(withMmapRead(mm, () => makeDeviceExclusive(mm, ro, 'dev'))).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });

  it('EOPNOTSUPP on shared anonymous memory (a shmem page, not anon)', async () => {
    const { memory, mm } = await setup();
    const shared = await mm.mmap(PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
    const free = memory.freePages;
    await expect(
      withMmapRead(mm, () => makeDeviceExclusive(mm, shared, 'dev')),
    ).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    expect(entryAt(mm, shared).kind).toBe(PteKind.PRESENT);
    expect(memory.refcount[entryAt(mm, shared).pfn]).toBe(2); // page cache + the mapping
    expect(memory.freePages).toBe(free - 1);
  });

  it('EOPNOTSUPP on a shared file mapping (page cache)', async () => {
    const { memory, mm } = await setup();
    const file = memory.createFile(PAGE_SIZE);
    const a = await mm.mmap(PAGE_SIZE, RW, MAP_SHARED, { file });
    await expect(withMmapRead(mm, () => makeDeviceExclusive(mm, a, 'dev'))).rejects.toMatchObject({
      code: 'EOPNOTSUPP',
    });
  });

  it('a private file mapping is fine: the write fault gives an anonymous COW copy', async () => {
    const { memory, mm } = await setup();
    const file = memory.createFile(PAGE_SIZE);
    file.pwrite(new Uint8Array([5]), 0);
    const a = await mm.mmap(PAGE_SIZE, RW, MAP_PRIVATE, { file });
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, a, 'dev'));
    page.unlock();
    page.put();
    expect([...(await mm.read(a, 1))]).toEqual([5]);
    expect([...file.pread(1, 0)]).toEqual([5]);
  });

  it('EOPNOTSUPP on a hugetlb VMA (FOLL_SPLIT_PMD is refused there)', async () => {
    const { mm } = await setup();
    // mmap(MAP_HUGETLB) is not modelled by @hmmkit/mm, so the VMA is linked by hand.
    const start = 0x4000_0000;
    const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_HUGETLB;
    await mm.mmapLock.downWrite();
    mm.linkVma(new Vma(start, start + 2 * 1024 * 1024, flags, start / PAGE_SIZE, undefined));
    mm.mmapLock.upWrite();
    await expect(
      withMmapRead(mm, () => makeDeviceExclusive(mm, start, 'dev')),
    ).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
  });
});

describe('makeDeviceExclusiveRange', () => {
  it('converts every page and returns them locked', async () => {
    const { memory, mm, addr } = await setup();
    const r = await withMmapRead(mm, () =>
      makeDeviceExclusiveRange(mm, addr, addr + 3 * PAGE_SIZE, 'dev'),
    );
    expect(r.count).toBe(3);
    for (let i = 0; i < 3; i++) {
      const p = r.pages[i]!;
      expect(p.address).toBe(addr + i * PAGE_SIZE);
      expect(p.locked).toBe(true);
      expect(entryAt(mm, p.address).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
      p.unlock();
      p.put();
    }
    expect(entryAt(mm, addr + 3 * PAGE_SIZE).kind).toBe(PteKind.NONE);
    expect(memory.refcount[r.pages[0]!.pfn]).toBe(1);
  });

  it('stops at a hole and counts the pages before it', async () => {
    const { mm, addr } = await setup();
    await mm.munmap(addr + 2 * PAGE_SIZE, PAGE_SIZE);
    const r = await withMmapRead(mm, () =>
      makeDeviceExclusiveRange(mm, addr, addr + 4 * PAGE_SIZE, 'dev'),
    );
    expect(r.count).toBe(2);
    for (const p of r.pages) {
      p?.unlock();
      p?.put();
    }
  });

  it('gives a null slot to a page that is not anonymous and goes on', async () => {
    const { mm } = await setup();
    const a = await mm.mmap(2 * PAGE_SIZE, RW, PRIV);
    await mm.mmap(PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, { addr: a + PAGE_SIZE });
    const r = await withMmapRead(mm, () => makeDeviceExclusiveRange(mm, a, a + 2 * PAGE_SIZE, 'd'));
    expect(r.count).toBe(2);
    expect(r.pages[0]).toBeInstanceOf(DeviceExclusivePage);
    expect(r.pages[1]).toBeNull();
    r.pages[0]?.unlock();
    r.pages[0]?.put();
  });

  it('throws the first page’s error when nothing could be faulted in', async () => {
    const { mm, addr } = await setup();
    const far = addr + 64 * PAGE_SIZE;
    await expect(
      withMmapRead(mm, () => makeDeviceExclusiveRange(mm, far, far + PAGE_SIZE, 'dev')),
    ).rejects.toMatchObject({ code: 'EFAULT' });
  });

  it.each([
    [1, 4096],
    [0, 4097],
    [8192, 4096],
    [4096, 4096],
    [-4096, 4096],
  ])('EINVAL for [%s, %s)', async (start, end) => {
    const { mm } = await setup();
    await expect(
      withMmapRead(mm, () => makeDeviceExclusiveRange(mm, start, end, 'dev')),
    ).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('EINVAL for a bad mm and a violation without the mmap_lock', async () => {
    const { mm, addr } = await setup();
    await expect(makeDeviceExclusiveRange(null as never, 0, 4096, 'd')).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(makeDeviceExclusiveRange(mm, addr, addr + 4096, 'd')).rejects.toBeInstanceOf(
      RuntimeViolation,
    );
  });
});

describe('the page handle and the fault hook reject misuse', () => {
  it('unlock() and put() each run once', async () => {
    const { mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    expect(() => page.unlock()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    page.put();
    expect(() => page.put()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(page.locked).toBe(false);
    expect(page.referenced).toBe(false);
  });

  it('removeDeviceExclusiveEntry refuses a fault that is not on a device-exclusive entry', async () => {
    const { mm, addr } = await setup();
    const e = entryAt(mm, addr);
    const vmf: VmFault = {
      mm,
      vma: mm.vmaLookup(addr)!,
      address: addr,
      flags: 0,
      kind: e.kind,
      pfn: e.pfn,
      bits: e.bits,
    };
    await expect(removeDeviceExclusiveEntry(vmf)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(removeDeviceExclusiveEntry(undefined as never)).rejects.toMatchObject({
      code: 'EINVAL',
    });
  });

  it('installDeviceExclusiveOps: EINVAL for a non-memory, EBUSY over another hook, idempotent', async () => {
    const { memory } = await setup();
    expect(() => installDeviceExclusiveOps({} as never)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    installDeviceExclusiveOps(memory);
    installDeviceExclusiveOps(memory);
    const other = new PhysicalMemory({ pages: 4 });
    other.deviceExclusiveOps = { restoreExclusive: () => 0 };
    expect(() => installDeviceExclusiveOps(other)).toThrow(
      expect.objectContaining({ code: 'EBUSY' }),
    );
  });
});
