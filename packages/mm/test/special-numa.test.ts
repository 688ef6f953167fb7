import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  changeProtNuma,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  remapPfnRange,
  VM_FAULT_SIGBUS,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  vmInsertPage,
} from '../src/index.js';
import { fill, RW, recordNotifiers } from './helpers.js';

const DEV = MAP_SHARED | MAP_ANONYMOUS;

function entry(mm: Mm, addr: number) {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return {
    kind: w.kind,
    pfn: w.pfn,
    special: w.special,
    protnone: w.protnone,
    writable: w.writable,
  };
}

describe('driver-filled mappings', () => {
  it('remapPfnRange installs special PTEs that GUP refuses and munmap leaves alone', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(2 * 4096, RW, DEV, { vmFlags: VM_IO | VM_PFNMAP });
    const free = memory.freePages;
    await mm.mmapLock.downWrite();
    remapPfnRange(mm, a, 3, 2);
    expect(() => remapPfnRange(mm, a, 3, 1)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    mm.mmapLock.upWrite();
    expect(entry(mm, a + 4096)).toMatchObject({ pfn: 4, special: true, writable: true });
    await expect(mm.getUserPages(a, 1, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    await mm.munmap(a, 8192);
    expect(memory.freePages).toBe(free);
    assertInvariants(memory);
  });

  it('vmInsertPage maps a driver page with a reference; an empty entry faults SIGBUS', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(2 * 4096, RW, DEV, { vmFlags: VM_MIXEDMAP });
    const page = memory.allocPage();
    memory.writePage(page, 0, fill(1, 7), 0, 1);
    await mm.mmapLock.downWrite();
    vmInsertPage(mm, a, page);
    mm.mmapLock.upWrite();
    memory.putPage(page);
    expect((await mm.read(a, 1))[0]).toBe(7);
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a + 4096, 0)).toBe(VM_FAULT_SIGBUS);
    mm.mmapLock.upRead();
    const child = await mm.fork();
    expect((await child.read(a, 1))[0]).toBe(7);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(memory.freePages).toBe(16);
  });

  it('rejects misuse', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const anon = await mm.mmap(4096, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    await expect(mm.mmap(4096, RW, DEV, { vmFlags: 0x1 })).rejects.toMatchObject({
      code: 'EINVAL',
    });
    expect(() => remapPfnRange(mm, anon, 1, 1)).toThrow();
    await mm.mmapLock.downWrite();
    expect(() => remapPfnRange(mm, anon, 1, 1)).toThrow(/VM_PFNMAP/);
    expect(() => vmInsertPage(mm, anon, 1)).toThrow(/VM_MIXEDMAP/);
    expect(() => remapPfnRange(mm, anon + 1, 1, 1)).toThrow(/aligned/);
    expect(() => remapPfnRange(mm, anon, 1, 0)).toThrow(/npages/);
    expect(() => vmInsertPage(mm, anon + 4096 * 99, 1)).toThrow(
      expect.objectContaining({ code: 'EFAULT' }),
    );
    mm.mmapLock.upWrite();
  });
});

describe('NUMA hinting', () => {
  it('makes present PTEs PROT_NONE hints under PROTECTION_VMA; the next access restores them', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(2 * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(a, fill(1, 3));
    await mm.read(a + 4096, 1);
    const log = await recordNotifiers(mm, a);
    await changeProtNuma(mm, a, 8192);
    expect(log.filter((r) => r.op !== 'arch').map((r) => [r.op, r.event, r.start, r.end])).toEqual([
      ['start', MmuNotifierEvent.PROTECTION_VMA, a, a + 8192],
      ['end', MmuNotifierEvent.PROTECTION_VMA, a, a + 8192],
    ]);
    expect(entry(mm, a).protnone).toBe(true);
    expect(entry(mm, a + 4096).protnone).toBe(false);
    expect((await mm.read(a, 1))[0]).toBe(3);
    expect(entry(mm, a).protnone).toBe(false);
    await expect(changeProtNuma(mm, a + 1, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    assertInvariants(memory);
  });
});
