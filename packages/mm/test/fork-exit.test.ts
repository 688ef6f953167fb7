import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FOLL_WRITE,
  MAP_ANONYMOUS,
  MAP_SHARED,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  reclaimPage,
} from '../src/index.js';
import { ANON, fill, pfnAt, RW, recordNotifiers } from './helpers.js';

function writable(mm: Mm, addr: number): boolean {
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + 4096);
  w.next();
  return w.writable;
}

describe('fork', () => {
  it('write-protects the parent under PROTECTION_PAGE per COW VMA, then flushes', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(2 * 4096, RW, ANON);
    await mm.write(a, fill(8192, 1));
    const log = await recordNotifiers(mm, a);
    const child = await mm.fork();
    expect(log.map((r) => [r.op, r.event, r.start, r.end])).toEqual([
      ['start', MmuNotifierEvent.PROTECTION_PAGE, a, a + 8192],
      ['end', MmuNotifierEvent.PROTECTION_PAGE, a, a + 8192],
      ['arch', -1, 0, Number.MAX_SAFE_INTEGER],
    ]);
    expect(writable(mm, a)).toBe(false);
    expect(writable(child, a)).toBe(false);
    expect(memory.mapcount[pfnAt(mm, a)]).toBe(2);
    assertInvariants(memory);
  });

  it('sends no notifier for shared VMAs and VMAs without anon pages', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const s = await mm.mmap(4096, RW, MAP_SHARED | MAP_ANONYMOUS);
    await mm.write(s, fill(1, 1));
    await mm.mmap(4096, RW, ANON);
    const log = await recordNotifiers(mm, s);
    const child = await mm.fork();
    expect(log.filter((r) => r.op === 'start')).toEqual([]);
    expect((await child.read(s, 1))[0]).toBe(1);
  });

  it('copies a pinned anon page for the child at once and leaves the parent writable', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 6));
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE);
    const child = await mm.fork();
    expect(pfnAt(child, a)).not.toBe(pin!.pfn);
    expect(pfnAt(mm, a)).toBe(pin!.pfn);
    expect(writable(mm, a)).toBe(true);
    await mm.write(a, fill(1, 7));
    expect((await child.read(a, 1))[0]).toBe(6);
    pin!.release();
    assertInvariants(memory);
  });

  it('shares swap entries with the child and both read the data back', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 9));
    expect(await reclaimPage(memory, pfnAt(mm, a))).toBe(true);
    const child = await mm.fork();
    expect(memory.swap.useCount(pfnAt(mm, a))).toBe(2);
    expect((await child.read(a, 4096)).every((b) => b === 9)).toBe(true);
    expect((await mm.read(a, 1))[0]).toBe(9);
    assertInvariants(memory);
    expect(memory.swap.usedSlots).toBe(0);
  });
});

describe('exit', () => {
  it('runs release (classic subscribers are unlinked by it), then frees every page', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4 * 4096, RW, ANON);
    await mm.write(a, fill(4 * 4096, 1));
    const log = await recordNotifiers(mm, a);
    await mm.exit();
    expect(log.map((r) => r.op)).toEqual(['release']);
    expect(memory.freePages).toBe(64);
    expect(mm.mmUsers()).toBe(0);
  });

  it('an interval notifier sees RELEASE over everything, then the UNMAP of exit_mmap', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    const events: number[][] = [];
    await mm.notifiers.insertInterval(a, 4096, {
      invalidate(sub, range, seq) {
        sub.setSeq(seq);
        events.push([range.event, range.start, range.end]);
        return true;
      },
    });
    await mm.exit();
    expect(events).toEqual([
      [MmuNotifierEvent.RELEASE, 0, Number.MAX_SAFE_INTEGER],
      [MmuNotifierEvent.UNMAP, 0, Number.MAX_SAFE_INTEGER],
    ]);
  });

  it('an mmget reference defers the teardown to the last mmput', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    expect(mm.mmgetNotZero()).toBe(true);
    await mm.exit();
    expect(memory.freePages).toBe(63);
    await expect(mm.read(a, 1)).rejects.toMatchObject({ code: 'ESRCH' });
    await mm.mmput();
    expect(memory.freePages).toBe(64);
    expect(mm.mmgetNotZero()).toBe(false);
    await expect(mm.mmput()).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => mm.mmget()).toThrow(/no users/);
  });

  it('a parent and child exiting in either order return every page', async () => {
    for (const childFirst of [true, false]) {
      const memory = new PhysicalMemory({ pages: 64 });
      const mm = Mm.create(memory);
      const a = await mm.mmap(8 * 4096, RW, ANON);
      await mm.write(a, fill(8 * 4096, 2));
      const child = await mm.fork();
      await child.write(a, fill(4096, 3));
      const [first, second] = childFirst ? [child, mm] : [mm, child];
      await first.exit();
      assertInvariants(memory);
      await second.exit();
      assertInvariants(memory);
      expect(memory.freePages).toBe(64);
    }
  });
});
