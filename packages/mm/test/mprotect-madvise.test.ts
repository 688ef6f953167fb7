import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  MADV_DOFORK,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MAP_SHARED,
  type Mm,
  PageTableWalker,
  PROT_NONE,
  PROT_READ,
  PteKind,
  reclaimPage,
  VM_DONTCOPY,
  VM_HUGEPAGE,
  VM_NOHUGEPAGE,
} from '../src/index.js';
import { ANON, anonSetup, fill, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

const setup = () => anonSetup(4, 2, 5);

function writable(mm: Mm, addr: number): boolean {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.writable;
}

describe('mprotect', () => {
  it('sends PROTECTION_VMA, start before the change, end after, flush after end', async () => {
    const { mm, a, memory } = await setup();
    const log = await recordNotifiers(mm, a);
    await mm.mprotect(a, 4 * 4096, PROT_READ);
    expect(log.map((r) => [r.op, r.event, r.start, r.end])).toEqual([
      ['start', MmuNotifierEvent.PROTECTION_VMA, a, a + 4 * 4096],
      ['end', MmuNotifierEvent.PROTECTION_VMA, a, a + 4 * 4096],
      ['arch', -1, a, a + 4 * 4096],
    ]);
    expect(writable(mm, a)).toBe(false);
    await expect(mm.write(a, fill(1, 1))).rejects.toMatchObject({ code: 'EFAULT' });
    expect((await mm.read(a, 1))[0]).toBe(5);
    assertInvariants(memory);
  });

  it('making exclusive anon pages writable again needs no fault', async () => {
    const { mm, a } = await setup();
    await mm.mprotect(a, 4096, PROT_READ);
    await mm.mprotect(a, 4096, RW);
    expect(writable(mm, a)).toBe(true);
  });

  it('PROT_NONE keeps the pages mapped but inaccessible', async () => {
    const { mm, a } = await setup();
    await mm.mprotect(a, 4096, PROT_NONE);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    await expect(mm.read(a, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    await mm.mprotect(a, 4096, PROT_READ);
    expect((await mm.read(a, 1))[0]).toBe(5);
  });

  it('sends nothing when the flags do not change or no page table exists', async () => {
    const { mm, a } = await setup();
    const b = await mm.mmap(4096, RW, ANON, { addr: 0x40000000 });
    const log = await recordNotifiers(mm, a);
    await mm.mprotect(a, 4096, RW);
    await mm.mprotect(b, 4096, PROT_READ);
    expect(log).toEqual([]);
  });

  it('splits the VMA at the range edges', async () => {
    const { mm, a } = await setup();
    await mm.mprotect(a + 4096, 4096, PROT_READ);
    expect(mm.vmas.map((v) => v.end - v.start)).toEqual([4096, 4096, 8192]);
  });

  it('fails with ENOMEM at a hole, after changing the VMAs before it', async () => {
    const { mm, a } = await setup();
    await mm.munmap(a + 8192, 4096);
    await expect(mm.mprotect(a, 4 * 4096, PROT_READ)).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(writable(mm, a)).toBe(false);
    await expect(mm.mprotect(a + 8192, 4096, PROT_READ)).rejects.toMatchObject({ code: 'ENOMEM' });
  });

  it('rejects bad arguments with the kernel errno', async () => {
    const { mm, a, memory } = await setup();
    await expect(mm.mprotect(a + 1, 4096, PROT_READ)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mprotect(a, 4096, 0x100)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mprotect(a, -1, PROT_READ)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mprotect(a, 0, PROT_READ)).resolves.toBeUndefined();
    const f = memory.createFile(4096);
    const ro = await mm.mmap(4096, PROT_READ, MAP_SHARED, { file: f });
    mm.vmaLookup(ro)!.flags &= ~0x20; // as for a file opened read-only: no VM_MAYWRITE
    await expect(mm.mprotect(ro, 4096, RW)).rejects.toMatchObject({ code: 'EACCES' });
  });
});

describe('madvise', () => {
  it('MADV_DONTNEED zaps under CLEAR and later reads see zeros', async () => {
    const { mm, a, memory } = await setup();
    const log = await recordNotifiers(mm, a);
    const free = memory.freePages;
    await mm.madvise(a, 8192, MADV_DONTNEED);
    expect(log.map((r) => [r.op, r.event, r.probeKind, r.free])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, PteKind.PRESENT, free],
      ['end', MmuNotifierEvent.CLEAR, PteKind.NONE, free],
      ['arch', -1, PteKind.NONE, free],
    ]);
    expect(memory.freePages).toBe(free + 2);
    expect((await mm.read(a, 1))[0]).toBe(0);
    assertInvariants(memory);
  });

  it('MADV_FREE lets reclaim discard clean pages but keeps re-dirtied ones', async () => {
    const { mm, a, memory } = await setup();
    const log = await recordNotifiers(mm, a);
    await mm.madvise(a, 8192, MADV_FREE);
    expect(log[0]).toMatchObject({ op: 'start', event: MmuNotifierEvent.CLEAR });
    await mm.write(a + 4096, fill(1, 9));
    expect(await reclaimPage(memory, pfnAt(mm, a))).toBe(true);
    expect(await reclaimPage(memory, pfnAt(mm, a + 4096))).toBe(false);
    expect(kindAt(mm, a)).toBe(PteKind.NONE);
    expect((await mm.read(a, 1))[0]).toBe(0);
    expect((await mm.read(a + 4096, 2))[1]).toBe(5);
    expect(memory.swap.usedSlots).toBe(0);
    assertInvariants(memory);
  });

  it('flag advice splits VMAs and sets VM_HUGEPAGE, VM_NOHUGEPAGE, VM_DONTCOPY', async () => {
    const { mm, a } = await setup();
    await mm.madvise(a, 4096, MADV_HUGEPAGE);
    expect(mm.vmaLookup(a)!.flags & VM_HUGEPAGE).toBe(VM_HUGEPAGE);
    expect(mm.vmaLookup(a + 4096)!.flags & VM_HUGEPAGE).toBe(0);
    await mm.madvise(a, 4096, MADV_NOHUGEPAGE);
    expect(mm.vmaLookup(a)!.flags & (VM_HUGEPAGE | VM_NOHUGEPAGE)).toBe(VM_NOHUGEPAGE);
    await mm.madvise(a, 4096, MADV_DONTFORK);
    const child = await mm.fork();
    expect(child.vmaLookup(a)).toBeUndefined();
    expect(child.vmaLookup(a + 4096)).toBeDefined();
    await mm.madvise(a, 4096, MADV_DOFORK);
    expect(mm.vmaLookup(a)!.flags & VM_DONTCOPY).toBe(0);
  });

  it('handles the mapped parts and fails with ENOMEM on a hole', async () => {
    const { mm, a } = await setup();
    await mm.munmap(a + 4096, 4096);
    await expect(mm.madvise(a, 4 * 4096, MADV_DONTNEED)).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(kindAt(mm, a)).toBe(PteKind.NONE);
  });

  it('rejects bad arguments with the kernel errno', async () => {
    const { mm, a, memory } = await setup();
    await expect(mm.madvise(a + 1, 4096, MADV_DONTNEED)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.madvise(a, 4096, 999)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.madvise(a, -4096, MADV_DONTNEED)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.madvise(a, 0, MADV_DONTNEED)).resolves.toBeUndefined();
    const f = memory.createFile(4096);
    const s = await mm.mmap(4096, RW, MAP_SHARED, { file: f });
    await expect(mm.madvise(s, 4096, MADV_FREE)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
