import { describe, expect, it } from 'vitest';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PteKind,
  rmapWalk,
  ZERO_PFN,
} from '../src/index.js';
import { fill } from './helpers.js';

describe('PageTableWalker', () => {
  it('reports kind, pfn and bits per page, none for untouched and unmapped pages', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(a, fill(1, 1));
    await mm.read(a + 4096, 1);
    await mm.write(a + 8192, fill(1, 1));
    await mm.mprotect(a + 8192, 4096, PROT_NONE);
    const w = new PageTableWalker(mm);
    w.reset(a, a + 4 * 4096);
    const rows: unknown[] = [];
    while (w.next())
      rows.push([w.addr - a, w.kind, w.writable, w.dirty, w.young, w.special, w.protnone, w.order]);
    expect(rows).toEqual([
      [0, PteKind.PRESENT, true, true, true, false, false, 0],
      [4096, PteKind.PRESENT, false, false, true, true, false, 0],
      [8192, PteKind.PRESENT, false, true, true, false, true, 0],
      [12288, PteKind.NONE, false, false, false, false, false, 0],
    ]);
    w.reset(a + 4096, a + 8192);
    w.next();
    expect(w.pfn).toBe(ZERO_PFN);
  });

  it('nextEntry skips none entries and unpopulated gigabytes', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const big = await mm.mmap(2 ** 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(big + 2 ** 39, fill(1, 1));
    const w = new PageTableWalker(mm);
    w.reset(big, big + 2 ** 40);
    const found: number[] = [];
    while (w.nextEntry()) found.push(w.addr - big);
    expect(found).toEqual([2 ** 39]);
  });

  it('rejects unaligned or inverted bounds', () => {
    const mm = Mm.create(new PhysicalMemory({ pages: 1 }));
    const w = new PageTableWalker(mm);
    expect(() => w.reset(1, 4096)).toThrow(/start/);
    expect(() => w.reset(8192, 4096)).toThrow(/end/);
  });
});

describe('rmapWalk and page metadata entry points', () => {
  it('reject unknown pfns', () => {
    const memory = new PhysicalMemory({ pages: 4 });
    expect(() => rmapWalk(memory, 99)).toThrow(/not a known frame/);
    expect(() => rmapWalk(memory, -1)).toThrow(/not a known frame/);
    expect(() => memory.getPage(3)).toThrow(/not in use/);
    expect(() => memory.putPage(1.5)).toThrow(/not in use/);
    expect(() => memory.unpinPage(0)).not.toThrow();
    expect(() => memory.unlockPage(1)).toThrow(/not locked/);
    expect(rmapWalk(memory, 1)).toEqual([]);
  });
});
