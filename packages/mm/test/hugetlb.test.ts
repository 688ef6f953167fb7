import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FOLL_GET,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  MADV_DONTNEED,
  MADV_FREE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  Mm,
  MREMAP_MAYMOVE,
  migratePage,
  PageTableWalker,
  PhysicalMemory,
  PMD_ORDER,
  PMD_SIZE,
  PROT_READ,
  PROT_WRITE,
  PteKind,
  reclaimPage,
  VM_FAULT_SIGBUS,
} from '../src/index.js';
import { fill, pfnAt, RW, recordNotifiers } from './helpers.js';

const HUGE = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;

function order(mm: Mm, addr: number): number {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.kind === PteKind.PRESENT ? w.order : -1;
}

function setup(hugetlbPages = 4) {
  const memory = new PhysicalMemory({ pages: 64, hugetlbPages });
  return { memory, mm: Mm.create(memory) };
}

describe('hugetlb', () => {
  it('GUP with FOLL_SPLIT_PMD refuses a hugetlb VMA with EOPNOTSUPP, as check_vma_flags() does', async () => {
    const { memory, mm } = setup();
    const a = await mm.mmap(PMD_SIZE, PROT_READ | PROT_WRITE, HUGE);
    await mm.write(a, fill(1, 1));
    const flags = FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD;
    await expect(mm.getUserPages(a, 1, flags)).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    // Refused before the access check: a read-only hugetlb VMA gives the same errno.
    await mm.mprotect(a, PMD_SIZE, PROT_READ);
    await expect(mm.getUserPages(a, 1, flags)).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    const [ref] = await mm.getUserPages(a, 1, FOLL_GET);
    expect(order(mm, a)).toBe(PMD_ORDER);
    ref!.release();
    assertInvariants(memory);
  });

  it('maps 2 MiB pages from the pool, aligned, and returns them on munmap', async () => {
    const { memory, mm } = setup();
    const a = await mm.mmap(100, RW, HUGE);
    expect(a % PMD_SIZE).toBe(0);
    expect(mm.vmaLookup(a)!.end).toBe(a + PMD_SIZE);
    await mm.write(a + 4096 * 7, fill(3, 9));
    expect(order(mm, a)).toBe(PMD_ORDER);
    expect(memory.freeHugePages).toBe(3);
    expect(memory.freePages).toBe(64);
    expect((await mm.read(a + 4096 * 7 + 2, 1))[0]).toBe(9);
    assertInvariants(memory);
    await mm.munmap(a, PMD_SIZE);
    expect(memory.freeHugePages).toBe(4);
    assertInvariants(memory);
  });

  it('fails mmap with ENOMEM when the pool is too small and faults SIGBUS when it runs dry', async () => {
    const { mm } = setup(1);
    await expect(mm.mmap(2 * PMD_SIZE, RW, HUGE)).rejects.toMatchObject({ code: 'ENOMEM' });
    const a = await mm.mmap(PMD_SIZE, RW, HUGE);
    const b = await mm.mmap(PMD_SIZE, RW, HUGE);
    await mm.write(a, fill(1, 1));
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(b, 0)).toBe(VM_FAULT_SIGBUS);
    mm.mmapLock.upRead();
  });

  it('fork shares the page; a write copies all 2 MiB under one CLEAR range', async () => {
    const { memory, mm } = setup();
    const a = await mm.mmap(PMD_SIZE, RW, HUGE);
    await mm.write(a, fill(PMD_SIZE, 5));
    const child = await mm.fork();
    expect(pfnAt(child, a)).toBe(pfnAt(mm, a));
    const log = await recordNotifiers(child, a);
    await child.write(a + 4096, fill(1, 6));
    expect(log.filter((r) => r.op === 'start').map((r) => [r.event, r.start, r.end])).toEqual([
      [MmuNotifierEvent.CLEAR, a, a + PMD_SIZE],
    ]);
    expect(order(child, a)).toBe(PMD_ORDER);
    expect(pfnAt(child, a)).not.toBe(pfnAt(mm, a));
    expect((await mm.read(a + 4096, 1))[0]).toBe(5);
    expect((await child.read(a + 8192, 1))[0]).toBe(5);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(memory.freeHugePages).toBe(4);
  });

  it('a pinned page is copied for the child at fork', async () => {
    const { memory, mm } = setup();
    const a = await mm.mmap(PMD_SIZE, RW, HUGE | MAP_POPULATE);
    expect(order(mm, a)).toBe(PMD_ORDER);
    await mm.write(a, fill(1, 2));
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE);
    const child = await mm.fork();
    expect(pfnAt(child, a)).not.toBe(pfnAt(mm, a));
    expect((await child.read(a, 1))[0]).toBe(2);
    pin!.release();
    assertInvariants(memory);
  });

  it('refuses splitting operations with EINVAL and is neither reclaimed nor migrated', async () => {
    const { memory, mm } = setup();
    const a = await mm.mmap(2 * PMD_SIZE, RW, HUGE);
    await mm.write(a, fill(1, 1));
    await expect(mm.munmap(a, 4096)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mprotect(a, 4096, PROT_READ)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.madvise(a + 4096, 4096, MADV_DONTNEED)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(mm.madvise(a, PMD_SIZE, MADV_FREE)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mremap(a, PMD_SIZE, 2 * PMD_SIZE, MREMAP_MAYMOVE)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(mm.mmap(PMD_SIZE, RW, HUGE | MAP_FIXED, { addr: a + 4096 })).rejects.toMatchObject(
      {
        code: 'EINVAL',
      },
    );
    await expect(
      mm.mmap(PMD_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB),
    ).rejects.toMatchObject({
      code: 'EOPNOTSUPP',
    });
    expect(await reclaimPage(memory, pfnAt(mm, a))).toBe(false);
    expect(await migratePage(memory, pfnAt(mm, a))).toBe(-1);
    await mm.mprotect(a, PMD_SIZE, PROT_READ);
    expect(order(mm, a)).toBe(PMD_ORDER);
    await mm.madvise(a, PMD_SIZE + 4096, MADV_DONTNEED);
    expect(memory.freeHugePages).toBe(4);
    assertInvariants(memory);
  });
});
