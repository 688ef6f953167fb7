import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  Mm,
  PhysicalMemory,
  PROT_NONE,
  PROT_READ,
  PteKind,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  ZERO_PFN,
} from '../src/index.js';
import { ANON, fill, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

async function setup(pages = 64) {
  const memory = new PhysicalMemory({ pages });
  const mm = Mm.create(memory);
  return { memory, mm };
}

describe('anonymous faults', () => {
  it('a read of untouched memory maps the shared zero page and allocates nothing', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(8192, RW, ANON);
    const free = memory.freePages;
    expect([...(await mm.read(a, 4))]).toEqual([0, 0, 0, 0]);
    expect(pfnAt(mm, a)).toBe(ZERO_PFN);
    expect(memory.freePages).toBe(free);
    assertInvariants(memory);
  });

  it('a write to the zero page copies it under a one-page CLEAR range', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(8192, RW, ANON);
    await mm.read(a, 1);
    const log = await recordNotifiers(mm, a);
    await mm.write(a, new Uint8Array([5]));
    expect(log.map((r) => [r.op, r.event, r.start, r.end, r.probeKind])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, a, a + 4096, PteKind.PRESENT],
      ['arch', -1, a, a + 4096, PteKind.NONE],
      ['end', MmuNotifierEvent.CLEAR, a, a + 4096, PteKind.PRESENT],
    ]);
    expect(pfnAt(mm, a)).not.toBe(ZERO_PFN);
    assertInvariants(memory);
  });

  it('a first write allocates an anon page without any notifier', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(8192, RW, ANON);
    const log = await recordNotifiers(mm, a);
    await mm.write(a + 4095, new Uint8Array([1, 2]));
    expect(log).toEqual([]);
    expect(memory.freePages).toBe(62);
    expect([...(await mm.read(a + 4094, 4))]).toEqual([0, 1, 2, 0]);
  });

  it('a page never written with non-zero bytes holds no 4 KiB buffer', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, new Uint8Array(4096));
    expect(memory.contents[pfnAt(mm, a)]).toBeUndefined();
  });

  it('handleMmFault returns VM_FAULT_SIGSEGV outside VMAs and for disallowed access', async () => {
    const { mm } = await setup();
    const ro = await mm.mmap(4096, PROT_READ, ANON);
    const none = await mm.mmap(4096, PROT_NONE, ANON);
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(ro + 8192 * 1000, 0)).toBe(VM_FAULT_SIGSEGV);
    expect(await mm.handleMmFault(ro, FAULT_FLAG_WRITE)).toBe(VM_FAULT_SIGSEGV);
    expect(await mm.handleMmFault(none, 0)).toBe(VM_FAULT_SIGSEGV);
    expect(await mm.handleMmFault(ro, FAULT_FLAG_REMOTE)).toBe(0);
    mm.mmapLock.upRead();
  });

  it('handleMmFault requires the mmap_lock', async () => {
    const { mm } = await setup();
    const a = await mm.mmap(4096, RW, ANON);
    await expect(mm.handleMmFault(a, 0)).rejects.toThrow(/assert|held/i);
  });

  it('returns VM_FAULT_OOM and read/write throw ENOMEM when memory runs out', async () => {
    const { mm } = await setup(2);
    const a = await mm.mmap(4 * 4096, RW, ANON);
    await mm.write(a, fill(8192, 1));
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a + 8192, FAULT_FLAG_WRITE)).toBe(VM_FAULT_OOM);
    mm.mmapLock.upRead();
    await expect(mm.write(a + 8192, fill(1, 1))).rejects.toMatchObject({ code: 'ENOMEM' });
  });

  it('read and write throw EFAULT (SIGSEGV) on holes, wrong protection and past TASK_SIZE', async () => {
    const { mm } = await setup();
    const ro = await mm.mmap(4096, PROT_READ, ANON);
    await expect(mm.write(ro, fill(1, 1))).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.read(ro + 4096 * 100, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.read(2 ** 47 - 1, 2)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.read(-1, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.read(ro, -1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.read(ro, 1.5)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.write(ro, 'x' as unknown as Uint8Array)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    expect(await mm.read(ro, 0)).toHaveLength(0);
  });
});

describe('copy-on-write', () => {
  it('after fork both sides read the same page; a write copies under CLEAR', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 3));
    const child = await mm.fork();
    expect(pfnAt(child, a)).toBe(pfnAt(mm, a));
    const log = await recordNotifiers(child, a);
    await child.write(a, new Uint8Array([9]));
    expect(log.filter((r) => r.op === 'start')).toMatchObject([{ event: MmuNotifierEvent.CLEAR }]);
    expect(pfnAt(child, a)).not.toBe(pfnAt(mm, a));
    expect((await mm.read(a, 1))[0]).toBe(3);
    expect((await child.read(a, 2))[1]).toBe(3);
    assertInvariants(memory);
  });

  it('the last sharer reuses the page instead of copying', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 3));
    const child = await mm.fork();
    await child.exit();
    const pfn = pfnAt(mm, a);
    const log = await recordNotifiers(mm, a);
    await mm.write(a, fill(1, 4));
    expect(pfnAt(mm, a)).toBe(pfn);
    expect(log).toEqual([]);
    assertInvariants(memory);
  });

  it('a private file mapping reads the page cache and copies on write', async () => {
    const { memory, mm } = await setup();
    const f = memory.createFile();
    f.pwrite(fill(4096, 8), 0);
    const a = await mm.mmap(4096, RW, MAP_PRIVATE, { file: f });
    expect((await mm.read(a, 1))[0]).toBe(8);
    expect(pfnAt(mm, a)).toBe(f.cache.get(0));
    await mm.write(a, fill(1, 1));
    expect(pfnAt(mm, a)).not.toBe(f.cache.get(0));
    expect(f.pread(1, 0)[0]).toBe(8);
    assertInvariants(memory);
  });
});

describe('shared mappings', () => {
  it('a shared tmpfs mapping sees pwrite and its stores reach pread', async () => {
    const { memory, mm } = await setup();
    const f = memory.createFile(8192);
    const a = await mm.mmap(8192, RW, MAP_SHARED, { file: f });
    await mm.write(a + 4096, new Uint8Array([1, 2]));
    expect([...f.pread(2, 4096)]).toEqual([1, 2]);
    f.pwrite(new Uint8Array([7]), 0);
    expect((await mm.read(a, 1))[0]).toBe(7);
    assertInvariants(memory);
  });

  it('access past the end of the file is a SIGBUS (EFAULT)', async () => {
    const { memory, mm } = await setup();
    const f = memory.createFile(4096);
    const a = await mm.mmap(8192, RW, MAP_SHARED, { file: f });
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a + 4096, 0)).toBe(VM_FAULT_SIGBUS);
    mm.mmapLock.upRead();
    await expect(mm.read(a + 4096, 1)).rejects.toThrow(/SIGBUS/);
  });

  it('MAP_SHARED|MAP_ANONYMOUS stays shared with a forked child', async () => {
    const { memory, mm } = await setup();
    const a = await mm.mmap(4096, RW, MAP_SHARED | MAP_ANONYMOUS);
    await mm.write(a, fill(1, 1));
    const child = await mm.fork();
    await child.write(a, fill(1, 2));
    expect((await mm.read(a, 1))[0]).toBe(2);
    await mm.write(a, fill(1, 3));
    expect((await child.read(a, 1))[0]).toBe(3);
    await child.exit();
    await mm.exit();
    expect(memory.freePages).toBe(64);
  });

  it('closing a mapped file keeps its pages until the mapping goes', async () => {
    const { memory, mm } = await setup();
    const f = memory.createFile();
    f.pwrite(fill(10, 4), 0);
    const a = await mm.mmap(4096, PROT_READ, MAP_SHARED, { file: f });
    f.close();
    expect((await mm.read(a, 1))[0]).toBe(4);
    await mm.munmap(a, 4096);
    expect(memory.freePages).toBe(64);
    expect(kindAt(mm, a)).toBe(PteKind.NONE);
  });
});
