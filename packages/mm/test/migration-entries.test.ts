import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { isKernelError } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import {
  addNewAnonRmap,
  anonVmaPrepare,
  assertInvariants,
  Mm,
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PhysicalMemory,
  PTE_WRITE,
  PteKind,
  removeMigrationPtes,
  SWP_WRITE,
  tryToMigrate,
  unmapToMigrationLocked,
} from '../src/index.js';
import { ANON, anonSetup, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

const setup = () => anonSetup(2, 2, 7);

function bitsAt(mm: Mm, addr: number): number {
  return mm.pt.bits[mm.pt.pteSlot(addr, false)]!;
}

function expectEinval(fn: () => unknown, text: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isKernelError(caught, 'EINVAL')).toBe(true);
  expect((caught as Error).message).toContain(text);
}

describe('migration entries', () => {
  it('tryToMigrate turns a writable mapping into a writable migration entry under CLEAR', async () => {
    const { memory, mm, a } = await setup();
    const pfn = pfnAt(mm, a);
    memory.getPage(pfn);
    await memory.lockPage(pfn);
    const log = await recordNotifiers(mm, a);
    expect(await tryToMigrate(memory, pfn)).toBe(true);
    expect(kindAt(mm, a)).toBe(PteKind.MIGRATION);
    expect(bitsAt(mm, a) & SWP_WRITE).toBe(SWP_WRITE);
    expect(memory.mapcount[pfn]).toBe(0);
    expect(memory.refcount[pfn]).toBe(1);
    expect(log.filter((r) => r.op === 'start').map((r) => [r.event, r.start, r.end])).toEqual([
      [MmuNotifierEvent.CLEAR, a, a + 4096],
    ]);
    removeMigrationPtes(memory, pfn, pfn);
    memory.unlockPage(pfn);
    memory.putPage(pfn);
    assertInvariants(memory);
  });

  it('removeMigrationPtes with the old page undoes the migration, keeping write access', async () => {
    const { memory, mm, a } = await setup();
    const pfn = pfnAt(mm, a);
    memory.getPage(pfn);
    await memory.lockPage(pfn);
    await tryToMigrate(memory, pfn);
    removeMigrationPtes(memory, pfn, pfn);
    memory.unlockPage(pfn);
    memory.putPage(pfn);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    expect(pfnAt(mm, a)).toBe(pfn);
    expect(bitsAt(mm, a) & PTE_WRITE).toBe(PTE_WRITE);
    expect(memory.mapcount[pfn]).toBe(1);
    expect((await mm.read(a, 1))[0]).toBe(7);
    assertInvariants(memory);
  });

  it('unmapToMigrationLocked leaves an entry that maps another page alone', async () => {
    const { memory, mm, a } = await setup();
    const other = pfnAt(mm, a + 4096);
    mm.ptl.lock();
    const done = unmapToMigrationLocked(mm, a, other);
    mm.ptl.unlock();
    expect(done).toBe(false);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    expect(memory.mapcount[other]).toBe(1);
    assertInvariants(memory);
  });

  it('rejects unknown frames and unaligned addresses with EINVAL naming the argument', async () => {
    const { memory, mm, a } = await setup();
    mm.ptl.lock();
    try {
      expectEinval(() => unmapToMigrationLocked(mm, a, -5), 'pfn -5');
      expectEinval(() => unmapToMigrationLocked(mm, a + 1, pfnAt(mm, a)), `addr`);
    } finally {
      mm.ptl.unlock();
    }
    await expect(tryToMigrate(memory, 1e9)).rejects.toThrow(/pfn 1000000000/);
    expectEinval(() => removeMigrationPtes(memory, pfnAt(mm, a), -1), 'dst -1');
    expectEinval(() => removeMigrationPtes(memory, -2, pfnAt(mm, a)), 'pfn -2');
  });
});

describe('anon rmap helpers', () => {
  it('anonVmaPrepare gives a VMA one anon_vma id on first use and keeps it', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    const vma = mm.vmaLookup(a)!;
    expect(vma.anonVma).toBe(0);
    const id = anonVmaPrepare(mm, vma);
    expect(id).not.toBe(0);
    expect(vma.anonVma).toBe(id);
    expect(anonVmaPrepare(mm, vma)).toBe(id);
    expect(vma.anonChain).toEqual([id]);
  });

  it('addNewAnonRmap makes a frame an exclusive anon page of the VMA at that address', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(2 * 4096, RW, ANON);
    const vma = mm.vmaLookup(a)!;
    const id = anonVmaPrepare(mm, vma);
    const pfn = memory.allocPage();
    addNewAnonRmap(mm, vma, pfn, a + 4096);
    expect(memory.flags[pfn]! & (PG_ANON | PG_ANON_EXCLUSIVE)).toBe(PG_ANON | PG_ANON_EXCLUSIVE);
    expect(memory.mapping[pfn]).toBe(id);
    expect(memory.index[pfn]).toBe(vma.pgoffOf(a + 4096));
    expect(memory.mapcount[pfn]).toBe(1);
    expectEinval(() => addNewAnonRmap(mm, vma, -3, a), 'pfn -3');
  });
});
