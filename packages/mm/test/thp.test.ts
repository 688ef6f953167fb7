import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  changeProtNuma,
  FOLL_WRITE,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MAP_POPULATE,
  Mm,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  migratePage,
  PageTableWalker,
  PG_HEAD,
  PhysicalMemory,
  PMD_ORDER,
  PMD_SIZE,
  PROT_READ,
  PteKind,
  reclaimPage,
  rmapWalk,
} from '../src/index.js';
import { ANON, fill, pfnAt, RW, recordNotifiers } from './helpers.js';

const HUGE_BASE = 0x40000000;

function order(mm: Mm, addr: number): number {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.kind === PteKind.PRESENT ? w.order : -1;
}

async function setup(pages = 2048) {
  const memory = new PhysicalMemory({ pages });
  const mm = Mm.create(memory);
  const a = await mm.mmap(2 * PMD_SIZE, RW, ANON, { addr: HUGE_BASE });
  await mm.madvise(a, 2 * PMD_SIZE, MADV_HUGEPAGE);
  return { memory, mm, a };
}

describe('transparent huge pages', () => {
  it('a write fault in a VM_HUGEPAGE VMA maps a 2 MiB PMD leaf of aligned frames', async () => {
    const { memory, mm, a } = await setup();
    const log = await recordNotifiers(mm, a);
    await mm.write(a + 5 * 4096, fill(10, 7));
    expect(order(mm, a)).toBe(PMD_ORDER);
    const head = pfnAt(mm, a);
    expect(head % 512).toBe(0);
    expect(pfnAt(mm, a + 5 * 4096)).toBe(head + 5);
    expect(memory.flags[head]! & PG_HEAD).toBe(PG_HEAD);
    expect(memory.freePages).toBe(2048 - 512);
    expect(log).toEqual([]);
    expect((await mm.read(a + 5 * 4096, 11))[9]).toBe(7);
    assertInvariants(memory);
  });

  it('read faults and VMAs without VM_HUGEPAGE use 4 KiB pages', async () => {
    const { mm, a } = await setup();
    await mm.read(a, 1);
    expect(order(mm, a)).toBe(0);
    const b = await mm.mmap(PMD_SIZE, RW, ANON, { addr: 0x80000000 });
    await mm.write(b, fill(1, 1));
    expect(order(mm, b)).toBe(0);
  });

  it('falls back to 4 KiB pages when no aligned block is free', async () => {
    const { mm, a, memory } = await setup(1100);
    await mm.write(a, fill(1, 1));
    expect(order(mm, a)).toBe(PMD_ORDER);
    await mm.write(a + PMD_SIZE, fill(1, 1));
    expect(order(mm, a + PMD_SIZE)).toBe(0);
    assertInvariants(memory);
  });

  it('partial munmap splits the PMD under CLEAR, then unmaps the part', async () => {
    const { memory, mm, a } = await setup();
    await mm.write(a, fill(PMD_SIZE, 3));
    const log = await recordNotifiers(mm, a);
    await mm.munmap(a + 4096, 4096);
    expect(log.filter((r) => r.op === 'start').map((r) => [r.event, r.start, r.end])).toEqual([
      [MmuNotifierEvent.CLEAR, a, a + PMD_SIZE],
      [MmuNotifierEvent.UNMAP, a + 4096, a + 8192],
    ]);
    expect(order(mm, a)).toBe(0);
    expect(memory.freePages).toBe(2048 - 511);
    expect((await mm.read(a + 8192, 1))[0]).toBe(3);
    assertInvariants(memory);
    await mm.munmap(a, 2 * PMD_SIZE);
    expect(memory.freePages).toBe(2048);
  });

  it('a whole-PMD munmap zaps the leaf without splitting', async () => {
    const { memory, mm, a } = await setup();
    await mm.write(a, fill(1, 3));
    const log = await recordNotifiers(mm, a);
    await mm.munmap(a, PMD_SIZE);
    expect(log.filter((r) => r.op === 'start').map((r) => r.event)).toEqual([
      MmuNotifierEvent.UNMAP,
    ]);
    expect(memory.freePages).toBe(2048);
  });

  it('fork shares the leaf; a write splits it and copies one page', async () => {
    const { memory, mm, a } = await setup();
    await mm.write(a, fill(PMD_SIZE, 4));
    const child = await mm.fork();
    expect(order(child, a)).toBe(PMD_ORDER);
    expect(pfnAt(child, a)).toBe(pfnAt(mm, a));
    await child.write(a + 4096, fill(1, 9));
    expect(order(child, a)).toBe(0);
    expect(pfnAt(child, a)).toBe(pfnAt(mm, a));
    expect(pfnAt(child, a + 4096)).not.toBe(pfnAt(mm, a + 4096));
    expect((await mm.read(a + 4096, 1))[0]).toBe(4);
    expect(rmapWalk(memory, pfnAt(mm, a)).map((h) => h.mm.id)).toEqual([mm.id, child.id]);
    assertInvariants(memory);
    await child.exit();
    await mm.write(a + 8192, fill(1, 5));
    assertInvariants(memory);
    await mm.exit();
    expect(memory.freePages).toBe(2048);
  });

  it('mprotect of the whole leaf keeps it huge; of part of it splits it', async () => {
    const { memory, mm, a } = await setup();
    await mm.write(a, fill(1, 1));
    await mm.mprotect(a, PMD_SIZE, PROT_READ);
    expect(order(mm, a)).toBe(PMD_ORDER);
    await expect(mm.write(a, fill(1, 2))).rejects.toMatchObject({ code: 'EFAULT' });
    await mm.mprotect(a, PMD_SIZE, RW);
    await mm.write(a, fill(1, 2));
    await mm.mprotect(a, 4096, PROT_READ);
    expect(order(mm, a)).toBe(0);
    assertInvariants(memory);
  });

  it('MADV_DONTNEED, reclaim, migration, mremap and pins work on huge-mapped pages', async () => {
    const { memory, mm, a } = await setup();
    await mm.write(a, fill(PMD_SIZE, 6));
    expect(await reclaimPage(memory, pfnAt(mm, a + 4096))).toBe(true);
    expect(order(mm, a)).toBe(0);
    await mm.write(a + PMD_SIZE, fill(PMD_SIZE, 8));
    const moved = await migratePage(memory, pfnAt(mm, a + PMD_SIZE));
    expect(moved).toBeGreaterThan(0);
    await mm.madvise(a + PMD_SIZE + 4096, 4096, MADV_DONTNEED);
    expect((await mm.read(a + PMD_SIZE + 4096, 1))[0]).toBe(0);
    expect((await mm.read(a + PMD_SIZE, 1))[0]).toBe(8);
    expect((await mm.read(a + 4096, 1))[0]).toBe(6);
    const b = await mm.mremap(
      a,
      2 * PMD_SIZE,
      2 * PMD_SIZE,
      MREMAP_MAYMOVE | MREMAP_FIXED,
      0x80000000,
    );
    expect((await mm.read(b + PMD_SIZE + 8192, 1))[0]).toBe(8);
    const [pin] = await mm.pinUserPages(b + 3 * 4096, 1, FOLL_WRITE);
    pin!.release();
    assertInvariants(memory);
    await mm.exit();
    expect(memory.freePages).toBe(2048);
  });

  it('MAP_POPULATE in a VM_HUGEPAGE range and NUMA hints on a leaf', async () => {
    const memory = new PhysicalMemory({ pages: 2048 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(PMD_SIZE, RW, ANON, { addr: HUGE_BASE });
    await mm.madvise(a, PMD_SIZE, MADV_HUGEPAGE);
    await mm.munmap(a, PMD_SIZE);
    const b = await mm.mmap(PMD_SIZE, RW, ANON, { addr: HUGE_BASE });
    await mm.madvise(b, PMD_SIZE, MADV_HUGEPAGE);
    await mm.write(b, fill(1, 1));
    expect(order(mm, b)).toBe(PMD_ORDER);
    await changeProtNuma(mm, b, PMD_SIZE);
    const w = new PageTableWalker(mm);
    w.reset(b, b + 4096);
    w.next();
    expect(w.protnone).toBe(true);
    expect((await mm.read(b, 1))[0]).toBe(1);
    expect(order(mm, b)).toBe(PMD_ORDER);
    const c = await mm.mmap(PMD_SIZE, RW, ANON | MAP_POPULATE, { addr: 0x80000000 });
    expect(order(mm, c)).toBe(0);
    assertInvariants(memory);
  });
});
