import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { assertInvariants, MAP_FIXED, Mm, PhysicalMemory, PteKind } from '../src/index.js';
import { ANON, fill, kindAt, RW, recordNotifiers } from './helpers.js';

async function setup(pages = 64) {
  const memory = new PhysicalMemory({ pages });
  const mm = Mm.create(memory);
  const a = await mm.mmap(4 * 4096, RW, ANON);
  await mm.write(a, fill(4 * 4096, 7));
  return { memory, mm, a };
}

describe('munmap', () => {
  it('sends UNMAP: start while mapped, end after the clear, TLB flush, then the pages are freed', async () => {
    const { memory, mm, a } = await setup();
    const log = await recordNotifiers(mm, a);
    const before = memory.freePages;
    await mm.munmap(a, 4 * 4096);
    expect(log.map((r) => [r.op, r.event, r.start, r.end])).toEqual([
      ['start', MmuNotifierEvent.UNMAP, a, a + 4 * 4096],
      ['end', MmuNotifierEvent.UNMAP, a, a + 4 * 4096],
      ['arch', -1, a, a + 4 * 4096],
    ]);
    expect(log[0]).toMatchObject({ probeKind: PteKind.PRESENT, blockable: true, free: before });
    expect(log[1]).toMatchObject({ probeKind: PteKind.NONE, free: before });
    expect(log[2]).toMatchObject({ free: before });
    expect(memory.freePages).toBe(before + 4);
    assertInvariants(memory);
  });

  it('covers the requested range even where it has holes, and splits the VMA', async () => {
    const { mm, a, memory } = await setup();
    const log = await recordNotifiers(mm, a);
    await mm.munmap(a + 4096, 4096);
    expect(log[0]).toMatchObject({ start: a + 4096, end: a + 8192 });
    expect(mm.vmas.map((v) => [v.start, v.end])).toEqual([
      [a, a + 4096],
      [a + 8192, a + 4 * 4096],
    ]);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    await expect(mm.read(a + 4096, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    assertInvariants(memory);
  });

  it('sends nothing when no VMA is in the range', async () => {
    const { mm, a } = await setup();
    const log = await recordNotifiers(mm, a);
    await mm.munmap(a + 1024 * 4096, 4096);
    expect(log).toEqual([]);
  });

  it('rejects bad arguments with the kernel errno', async () => {
    const { mm, a } = await setup();
    await expect(mm.munmap(a + 1, 4096)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.munmap(a, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.munmap(a, -4096)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.munmap(2 ** 47 - 4096, 8192)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.munmap(Number.NaN, 4096)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('MAP_FIXED over a mapping unmaps it first with UNMAP', async () => {
    const { mm, a, memory } = await setup();
    const log = await recordNotifiers(mm, a);
    const b = await mm.mmap(4096, RW, ANON | MAP_FIXED, { addr: a });
    expect(b).toBe(a);
    expect(log[0]).toMatchObject({
      op: 'start',
      event: MmuNotifierEvent.UNMAP,
      start: a,
      end: a + 4096,
    });
    expect([...(await mm.read(a, 2))]).toEqual([0, 0]);
    expect([...(await mm.read(a + 4096, 1))]).toEqual([7]);
    assertInvariants(memory);
  });

  it('frees the page tables of an unmapped range', async () => {
    const { mm, a } = await setup();
    const tables = mm.pt.tables;
    await mm.munmap(a, 4 * 4096);
    expect(mm.pt.tables).toBe(tables - 1);
  });
});
