import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FOLL_WRITE,
  MAP_SHARED,
  migratePage,
  oomReap,
  PteKind,
  reclaimPage,
  rmapWalk,
} from '../src/index.js';
import { ANON, anonSetup, fill, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

const setup = () => anonSetup(4, 4, 5);

describe('rmap', () => {
  it('finds every mapping of a page shared by fork, and of a page-cache page', async () => {
    const { memory, mm, a } = await setup();
    const child = await mm.fork();
    const hits = rmapWalk(memory, pfnAt(mm, a + 4096));
    expect(hits.map((h) => [h.mm.id, h.address])).toEqual([
      [mm.id, a + 4096],
      [child.id, a + 4096],
    ]);
    const f = memory.createFile(4096);
    const s1 = await mm.mmap(4096, RW, MAP_SHARED, { file: f });
    const s2 = await child.mmap(4096, RW, MAP_SHARED, { file: f });
    await mm.read(s1, 1);
    await child.read(s2, 1);
    expect(rmapWalk(memory, f.cache.get(0)!).map((h) => h.address)).toEqual([s1, s2]);
  });
});

describe('reclaim', () => {
  it('swaps a page out under a per-mapping CLEAR and reads it back on the next access', async () => {
    const { memory, mm, a } = await setup();
    const child = await mm.fork();
    const pfn = pfnAt(mm, a);
    const log = await recordNotifiers(mm, a);
    const free = memory.freePages;
    expect(await reclaimPage(memory, pfn)).toBe(true);
    expect(log.map((r) => [r.op, r.event, r.start, r.end, r.probeKind])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, a, a + 4096, PteKind.PRESENT],
      ['arch', -1, a, a + 4096, PteKind.NONE],
      ['end', MmuNotifierEvent.CLEAR, a, a + 4096, PteKind.SWAP],
    ]);
    expect(memory.freePages).toBe(free + 1);
    expect(kindAt(child, a)).toBe(PteKind.SWAP);
    assertInvariants(memory);
    expect((await mm.read(a, 4096)).every((b) => b === 5)).toBe(true);
    expect((await child.read(a, 1))[0]).toBe(5);
    expect(memory.swap.usedSlots).toBe(0);
    assertInvariants(memory);
  });

  it('refuses pinned pages, pages with GUP references, page-cache and zero pages', async () => {
    const { memory, mm, a } = await setup();
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE);
    const [ref] = await mm.getUserPages(a + 4096, 1, 0);
    expect(await reclaimPage(memory, pin!.pfn)).toBe(false);
    expect(await reclaimPage(memory, ref!.pfn)).toBe(false);
    expect(await reclaimPage(memory, 0)).toBe(false);
    expect(await reclaimPage(memory, -5)).toBe(false);
    const f = memory.createFile();
    f.pwrite(fill(1, 1), 0);
    expect(await reclaimPage(memory, f.cache.get(0)!)).toBe(false);
    pin!.release();
    ref!.release();
    assertInvariants(memory);
  });
});

describe('migration', () => {
  it('moves a page through migration entries under CLEAR, keeping its bytes and mappings', async () => {
    const { memory, mm, a } = await setup();
    const child = await mm.fork();
    const old = pfnAt(mm, a);
    const log = await recordNotifiers(mm, a);
    const dst = await migratePage(memory, old);
    expect(dst).toBeGreaterThan(0);
    expect(pfnAt(mm, a)).toBe(dst);
    expect(pfnAt(child, a)).toBe(dst);
    expect(log.filter((r) => r.op === 'start').map((r) => r.event)).toEqual([
      MmuNotifierEvent.CLEAR,
    ]);
    expect(log.find((r) => r.op === 'end')!.probeKind).toBe(PteKind.MIGRATION);
    expect((await child.read(a, 1))[0]).toBe(5);
    expect(memory.flags[old]! & 0x400).toBe(0x400);
    assertInvariants(memory);
  });

  it('a fault on a migration entry waits until the migration finishes', async () => {
    const { memory, mm, a } = await setup();
    const old = pfnAt(mm, a);
    const t = spawn('migrate', () => migratePage(memory, old));
    await schedulePoint();
    expect(kindAt(mm, a)).toBe(PteKind.MIGRATION);
    await mm.write(a, fill(1, 8));
    const dst = await t.join();
    expect(pfnAt(mm, a)).toBe(dst);
    expect((await mm.read(a, 2))[1]).toBe(5);
    expect((await mm.read(a, 1))[0]).toBe(8);
    assertInvariants(memory);
  });

  it('refuses pinned pages and reports failure with -1', async () => {
    const { memory, mm, a } = await setup();
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE);
    expect(await migratePage(memory, pin!.pfn)).toBe(-1);
    expect(await migratePage(memory, 0)).toBe(-1);
    pin!.release();
  });
});

describe('OOM reaper', () => {
  it('zaps private VMAs under non-blockable UNMAP ranges', async () => {
    const { memory, mm, a } = await setup();
    const log = await recordNotifiers(mm, a);
    expect(await oomReap(mm)).toBe(true);
    expect(log.filter((r) => r.op === 'start')).toMatchObject([
      { event: MmuNotifierEvent.UNMAP, start: a, end: a + 4 * 4096, blockable: false },
    ]);
    expect(memory.freePages).toBe(64);
    assertInvariants(memory);
  });

  it('skips a VMA whose notifier returns -EAGAIN without calling end, and reports failure', async () => {
    const { memory, mm, a } = await setup();
    const b = await mm.mmap(4096, RW, ANON, { addr: 0x40000000 });
    await mm.write(b, fill(1, 1));
    const seen: number[] = [];
    await mm.notifiers.insertInterval(a, 4096, {
      invalidate(sub, range, seq) {
        seen.push(range.flags);
        if (!range.flags) return false;
        sub.setSeq(seq);
        return true;
      },
    });
    const log = await recordNotifiers(mm, a);
    expect(await oomReap(mm)).toBe(false);
    expect(seen).toEqual([0]);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    expect(kindAt(mm, b)).toBe(PteKind.NONE);
    // The interval pass failed first, so the classic subscriber saw neither start nor end
    // for `a`, and the reaper did not call end for it.
    expect(log.filter((r) => r.op !== 'arch').map((r) => [r.op, r.start])).toEqual([
      ['start', b],
      ['end', b],
    ]);
    expect(mm.notifiers.activeInvalidateRanges).toBe(0);
    expect(memory.freePages).toBe(60);
    assertInvariants(memory);
  });

  it('gives up when the mmap_lock is taken', async () => {
    const { mm } = await setup();
    await mm.mmapLock.downWrite();
    expect(await oomReap(mm)).toBe(false);
    mm.mmapLock.upWrite();
  });
});
