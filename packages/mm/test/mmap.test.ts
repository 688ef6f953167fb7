import { describe, expect, it } from 'vitest';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  Mm,
  PhysicalMemory,
  PROT_READ,
  PteKind,
  TASK_SIZE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from '../src/index.js';
import { ANON, kindAt, RW, recordNotifiers } from './helpers.js';

function setup(pages = 64) {
  const memory = new PhysicalMemory({ pages });
  return { memory, mm: Mm.create(memory) };
}

describe('mmap', () => {
  it('returns page-aligned, non-overlapping ranges with the VMA flags of prot and flags', async () => {
    const { mm } = setup();
    const a = await mm.mmap(100, RW, ANON);
    const b = await mm.mmap(8192, PROT_READ, MAP_SHARED | MAP_ANONYMOUS);
    expect(a % 4096).toBe(0);
    expect(mm.vmaLookup(a)).toMatchObject({ start: a, end: a + 4096 });
    expect(b + 8192 <= a || b >= a + 4096).toBe(true);
    expect(mm.vmaLookup(a)!.flags & (VM_READ | VM_WRITE | VM_SHARED)).toBe(VM_READ | VM_WRITE);
    expect(mm.vmaLookup(b)!.flags & (VM_READ | VM_WRITE | VM_SHARED)).toBe(VM_READ | VM_SHARED);
    expect(mm.vmaLookup(b)!.flags & VM_MAYWRITE).toBe(VM_MAYWRITE);
  });

  it('honours a free hint and MAP_FIXED addresses', async () => {
    const { mm } = setup();
    expect(await mm.mmap(4096, RW, ANON, { addr: 0x10000000 })).toBe(0x10000000);
    expect(await mm.mmap(4096, RW, ANON | MAP_FIXED, { addr: 0x20000000 })).toBe(0x20000000);
    const c = await mm.mmap(4096, RW, ANON, { addr: 0x10000000 });
    expect(c).not.toBe(0x10000000);
  });

  it('MAP_POPULATE faults the whole range in without notifiers', async () => {
    const { memory, mm } = setup();
    const log = await recordNotifiers(mm);
    const a = await mm.mmap(8 * 4096, RW, ANON | MAP_POPULATE);
    expect(memory.freePages).toBe(56);
    expect(kindAt(mm, a + 7 * 4096)).toBe(PteKind.PRESENT);
    expect(log).toEqual([]);
    const r = await mm.mmap(4096, PROT_READ, ANON | MAP_POPULATE);
    expect(kindAt(mm, r)).toBe(PteKind.PRESENT);
    expect(memory.freePages).toBe(56);
  });

  it('a mapping with neither a file nor MAP_ANONYMOUS fails with EBADF before other checks', async () => {
    const { mm } = setup();
    await expect(mm.mmap(4096, RW, MAP_PRIVATE)).rejects.toMatchObject({ code: 'EBADF', errno: 9 });
    await expect(mm.mmap(4096, RW, MAP_SHARED)).rejects.toMatchObject({ code: 'EBADF' });
    // ksys_mmap_pgoff() fails on the fd before do_mmap() looks at the length.
    await expect(mm.mmap(0, RW, MAP_SHARED)).rejects.toMatchObject({ code: 'EBADF' });
    expect(mm.vmas.length).toBe(0);
  });

  it('rejects bad length, flags and addresses with the kernel errno', async () => {
    const { memory, mm } = setup();
    const f = memory.createFile(4096);
    await expect(mm.mmap(0, RW, ANON)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mmap(-1, RW, ANON)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mmap(TASK_SIZE + 1, RW, ANON)).rejects.toMatchObject({ code: 'ENOMEM' });
    await expect(mm.mmap(TASK_SIZE, RW, ANON)).rejects.toMatchObject({ code: 'ENOMEM' });
    await expect(mm.mmap(4096, RW, MAP_ANONYMOUS)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mmap(4096, RW, MAP_PRIVATE)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(mm.mmap(4096, RW, ANON | MAP_FIXED, { addr: 0x10001 })).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(mm.mmap(4096, RW, ANON | MAP_FIXED, { addr: 4096 })).rejects.toMatchObject({
      code: 'EPERM',
    });
    await expect(
      mm.mmap(8192, RW, ANON | MAP_FIXED, { addr: TASK_SIZE - 4096 }),
    ).rejects.toMatchObject({ code: 'ENOMEM' });
    await expect(mm.mmap(4096, RW, MAP_SHARED, { file: f, offset: 100 })).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(
      mm.mmap(4096, RW, MAP_SHARED_VALIDATE | 0x4000000, { file: f }),
    ).rejects.toMatchObject({
      code: 'EOPNOTSUPP',
    });
    await expect(mm.mmap(4096, RW, ANON | MAP_HUGETLB)).rejects.toMatchObject({
      code: 'ENOMEM',
    });
    await expect(mm.mmap(4096, -1, ANON)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mmap(4096, RW, 2.5)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('ignores unknown prot bits as do_mmap does', async () => {
    const { mm } = setup();
    const a = await mm.mmap(4096, PROT_READ | 0x100, ANON);
    expect(mm.vmaLookup(a)!.flags & (VM_READ | VM_WRITE)).toBe(VM_READ);
  });

  it('MAP_FIXED_NOREPLACE over a mapping fails with EEXIST', async () => {
    const { mm } = setup();
    const a = await mm.mmap(4096, RW, ANON);
    await expect(mm.mmap(4096, RW, ANON | MAP_FIXED_NOREPLACE, { addr: a })).rejects.toMatchObject({
      code: 'EEXIST',
    });
  });

  it('runs out of address space with ENOMEM', async () => {
    const { mm } = setup();
    await mm.mmap(2 ** 46, PROT_READ, ANON);
    await expect(mm.mmap(2 ** 46, PROT_READ, ANON)).rejects.toMatchObject({ code: 'ENOMEM' });
  });

  it('fails with ESRCH after the process exited', async () => {
    const { mm } = setup();
    await mm.exit();
    await expect(mm.mmap(4096, RW, ANON)).rejects.toMatchObject({ code: 'ESRCH' });
    await expect(mm.exit()).rejects.toMatchObject({ code: 'ESRCH' });
  });
});

describe('PhysicalMemory and tmpfs files', () => {
  it('validates its options', () => {
    expect(() => new PhysicalMemory({ pages: 0 })).toThrow(/pages/);
    expect(() => new PhysicalMemory({ pages: 1.5 })).toThrow(/pages/);
    expect(() => new PhysicalMemory({ pages: 4, hugetlbPages: -1 })).toThrow(/hugetlbPages/);
    expect(() => new PhysicalMemory({ pages: 4, hugetlbPages: 2 ** 20 })).toThrow(/too large/);
    expect(() => Mm.create({} as PhysicalMemory)).toThrow(/PhysicalMemory/);
  });

  it('pread is short at end of file and pwrite extends the file', () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const f = memory.createFile(10);
    expect(f.pread(100, 0)).toHaveLength(10);
    expect(f.pread(5, 20)).toHaveLength(0);
    f.pwrite(new Uint8Array([1, 2, 3]), 8190);
    expect(f.size).toBe(8193);
    expect([...f.pread(4, 8189)]).toEqual([0, 1, 2, 3]);
    expect(memory.freePages).toBe(6);
    f.close();
    expect(memory.freePages).toBe(8);
  });

  it('file calls reject bad arguments and a closed file', () => {
    const memory = new PhysicalMemory({ pages: 1 });
    expect(() => memory.createFile(-1)).toThrow(/size/);
    const f = memory.createFile();
    expect(() => f.pread(-1, 0)).toThrow(/length/);
    expect(() => f.pread(1, 0.5)).toThrow(/offset/);
    expect(() => f.pwrite([1] as unknown as Uint8Array, 0)).toThrow(/Uint8Array/);
    expect(() => f.pwrite(new Uint8Array([1, 2]), 4095)).toThrow(
      expect.objectContaining({ code: 'ENOSPC' }),
    );
    f.close();
    expect(() => f.pread(1, 0)).toThrow(/closed/);
    expect(() => f.close()).toThrow(/closed/);
  });
});
