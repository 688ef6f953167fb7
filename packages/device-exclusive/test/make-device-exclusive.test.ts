import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import {
  assertInvariants,
  FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_RETRY_NOWAIT,
  MADV_HUGEPAGE,
  Mm,
  PAGE_SIZE,
  PG_DIRTY,
  PG_LOCKED,
  PhysicalMemory,
  PMD_SIZE,
  PTE_SOFT_DIRTY,
  PteKind,
  setPteAt,
  VM_FAULT_RETRY,
} from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { schedulePoint, setTraceSink, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { allFree, entryAt, exclusiveEntries, withMmapRead } from './device.js';
import { PRIV, RW, recordRanges, setup } from './helpers.js';

describe('makeDeviceExclusive', () => {
  it('replaces the PTE with a device-exclusive entry that keeps the pfn and the mapcount', async () => {
    const { memory, mm, addr } = await setup();
    const pfn = entryAt(mm, addr).pfn;
    const refs = memory.refcount[pfn]!;
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    const e = entryAt(mm, addr);
    expect(e.kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    expect(e.pfn).toBe(pfn);
    expect(page.pfn).toBe(pfn);
    expect(memory.mapcount[pfn]).toBe(1);
    expect(memory.refcount[pfn]).toBe(refs + 1);
    expect(memory.flags[pfn]! & PG_LOCKED).toBe(PG_LOCKED);
    page.unlock();
    page.put();
    expect(memory.refcount[pfn]).toBe(refs);
    assertInvariants(memory);
  });

  it('moves the dirty bit of the PTE to the folio', async () => {
    const { memory, mm, addr } = await setup();
    const pfn = entryAt(mm, addr).pfn;
    expect(entryAt(mm, addr).dirty).toBe(true);
    expect(memory.flags[pfn]! & PG_DIRTY).toBe(0);
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    expect(memory.flags[pfn]! & PG_DIRTY).toBe(PG_DIRTY);
    page.unlock();
    page.put();
  });

  it('keeps the soft-dirty bit in the entry and gives it back on restore', async () => {
    const { mm, addr } = await setup();
    const e = entryAt(mm, addr);
    mm.ptl.lock();
    setPteAt(mm, addr, e.pfn, e.bits | PTE_SOFT_DIRTY);
    mm.ptl.unlock();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    expect(entryAt(mm, addr).bits & PTE_SOFT_DIRTY).toBe(PTE_SOFT_DIRTY);
    page.unlock();
    page.put();
    await mm.read(addr, 1);
    expect(entryAt(mm, addr).kind).toBe(PteKind.PRESENT);
    expect(entryAt(mm, addr).bits & PTE_SOFT_DIRTY).toBe(PTE_SOFT_DIRTY);
  });

  it('rounds an unaligned address down to its page', async () => {
    const { mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr + 123, 'dev'));
    expect(page.address).toBe(addr);
    expect(entryAt(mm, addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    page.unlock();
    page.put();
  });

  it('faults in a page that was never touched', async () => {
    const { memory, mm, addr } = await setup();
    const a = addr + PAGE_SIZE;
    expect(entryAt(mm, a).kind).toBe(PteKind.NONE);
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, a, 'dev'));
    expect(entryAt(mm, a).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    page.unlock();
    page.put();
    expect([...(await mm.read(a, 2))]).toEqual([0, 0]);
    assertInvariants(memory);
  });

  it('breaks COW first: after fork the parent gets its own copy and the child keeps the old page', async () => {
    const { memory, mm, addr } = await setup();
    const child = await mm.fork();
    const shared = entryAt(mm, addr).pfn;
    expect(entryAt(child, addr).pfn).toBe(shared);
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    expect(page.pfn).not.toBe(shared);
    expect(entryAt(child, addr).pfn).toBe(shared);
    memory.writePage(page.pfn, 0, new Uint8Array([42]), 0, 1); // the device's write
    page.unlock();
    page.put();
    expect([...(await mm.read(addr, 2))]).toEqual([42, 2]);
    expect([...(await child.read(addr, 2))]).toEqual([1, 2]);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('splits a PMD-mapped THP first (FOLL_SPLIT_PMD) and converts only the one PTE', async () => {
    const memory = new PhysicalMemory({ pages: 2048 });
    const mm = Mm.create(memory);
    const raw = await mm.mmap(2 * PMD_SIZE, RW, PRIV);
    const h = Math.ceil(raw / PMD_SIZE) * PMD_SIZE;
    await mm.madvise(h, PMD_SIZE, MADV_HUGEPAGE);
    await mm.write(h + PAGE_SIZE, new Uint8Array([7, 8]));
    expect(entryAt(mm, h).order).toBe(9);
    const log = await recordRanges(mm);
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, h + PAGE_SIZE, 'dev'));
    expect(log.map((r) => [r.op, r.event, r.start, r.end])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, h, h + PMD_SIZE],
      ['end', MmuNotifierEvent.CLEAR, h, h + PMD_SIZE],
      ['start', MmuNotifierEvent.EXCLUSIVE, h + PAGE_SIZE, h + 2 * PAGE_SIZE],
      ['end', MmuNotifierEvent.EXCLUSIVE, h + PAGE_SIZE, h + 2 * PAGE_SIZE],
    ]);
    expect(entryAt(mm, h + PAGE_SIZE).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    expect(entryAt(mm, h).kind).toBe(PteKind.PRESENT);
    expect(entryAt(mm, h).order).toBe(0);
    page.unlock();
    page.put();
    expect([...(await mm.read(h + PAGE_SIZE, 2))]).toEqual([7, 8]);
    assertInvariants(memory);
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('sends one MMU_NOTIFY_EXCLUSIVE over the page carrying the owner', async () => {
    const { mm, addr } = await setup();
    const log = await recordRanges(mm);
    const owner = { device: 1 };
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, owner));
    expect(log).toEqual([
      { op: 'start', event: MmuNotifierEvent.EXCLUSIVE, start: addr, end: addr + PAGE_SIZE, owner },
      { op: 'end', event: MmuNotifierEvent.EXCLUSIVE, start: addr, end: addr + PAGE_SIZE, owner },
    ]);
    page.unlock();
    page.put();
  });

  it('on an entry that is already exclusive, restores it (CLEAR, no owner) and converts again', async () => {
    const { mm, addr } = await setup();
    const first = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'a'));
    first.unlock();
    first.put();
    const log = await recordRanges(mm);
    const second = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'b'));
    expect(log.map((s) => [s.op, s.event, s.owner])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, undefined],
      ['end', MmuNotifierEvent.CLEAR, undefined],
      ['start', MmuNotifierEvent.EXCLUSIVE, 'b'],
      ['end', MmuNotifierEvent.EXCLUSIVE, 'b'],
    ]);
    expect(second.pfn).toBe(first.pfn);
    second.unlock();
    second.put();
  });
  it('traces the conversion and the restore', async () => {
    const { mm, addr } = await setup();
    const events: string[] = [];
    setTraceSink((e) => {
      if (e.kind === 'device-exclusive') events.push(`${e.name}@${e.args?.address}`);
    });
    try {
      const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
      page.unlock();
      page.put();
      await mm.read(addr, 1);
    } finally {
      setTraceSink(undefined);
    }
    expect(events).toEqual([`make@${addr}`, `restore@${addr}`]);
  });
});

describe('CPU access to a device-exclusive entry', () => {
  it('restores a present writable PTE under MMU_NOTIFY_CLEAR with no owner', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    page.put();
    const log = await recordRanges(mm);
    expect([...(await mm.read(addr, 4))]).toEqual([1, 2, 3, 4]);
    const e = entryAt(mm, addr);
    expect(e.kind).toBe(PteKind.PRESENT);
    expect(e.pfn).toBe(page.pfn);
    expect(e.writable).toBe(true);
    expect(log.map((s) => [s.op, s.event, s.start, s.owner])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, addr, undefined],
      ['end', MmuNotifierEvent.CLEAR, addr, undefined],
    ]);
    assertInvariants(memory);
  });

  it('waits for the page lock: the driver programs its mapping before the CPU can revoke it', async () => {
    const { mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    const cpu = spawn('cpu', () => mm.read(addr, 1));
    await schedulePoint();
    await schedulePoint();
    expect(cpu.done).toBe(false);
    expect(entryAt(mm, addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    page.unlock();
    expect([...(await cpu.join())]).toEqual([1]);
    expect(entryAt(mm, addr).kind).toBe(PteKind.PRESENT);
    page.put();
  });

  it('a fault that may not wait on the locked page returns VM_FAULT_RETRY and leaves the entry', async () => {
    const { mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    const ret = await withMmapRead(mm, () =>
      mm.handleMmFault(addr, FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT),
    );
    expect(ret).toBe(VM_FAULT_RETRY);
    expect(entryAt(mm, addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    page.unlock();
    page.put();
  });

  it('restores with the protection the VMA has now: after mprotect(PROT_READ) a write faults', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    page.put();
    const log = await recordRanges(mm);
    await mm.mprotect(addr, PAGE_SIZE, 1);
    expect(log[0]?.event).toBe(MmuNotifierEvent.PROTECTION_VMA);
    expect(entryAt(mm, addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    expect([...(await mm.read(addr, 1))]).toEqual([1]);
    expect(entryAt(mm, addr).kind).toBe(PteKind.PRESENT);
    expect(entryAt(mm, addr).writable).toBe(false);
    await expect(mm.write(addr, new Uint8Array([9]))).rejects.toMatchObject({ code: 'EFAULT' });
    await mm.mprotect(addr, PAGE_SIZE, 3);
    await mm.write(addr, new Uint8Array([9]));
    expect([...(await mm.read(addr, 2))]).toEqual([9, 2]);
    assertInvariants(memory);
  });
});

describe('address-space changes over a device-exclusive entry', () => {
  it('munmap zaps the entry under MMU_NOTIFY_UNMAP; the page is freed at the last put', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    const log = await recordRanges(mm);
    await mm.munmap(addr, 4 * PAGE_SIZE);
    expect(log[0]?.event).toBe(MmuNotifierEvent.UNMAP);
    expect(memory.mapcount[page.pfn]).toBe(0);
    expect(memory.refcount[page.pfn]).toBe(1);
    page.unlock();
    page.put();
    assertInvariants(memory);
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('MADV_DONTNEED zaps the entry under MMU_NOTIFY_CLEAR; the next CPU read gets a zero page', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    page.put();
    const log = await recordRanges(mm);
    await mm.madvise(addr, PAGE_SIZE, 4);
    expect(log[0]?.event).toBe(MmuNotifierEvent.CLEAR);
    expect(entryAt(mm, addr).kind).toBe(PteKind.NONE);
    expect([...(await mm.read(addr, 2))]).toEqual([0, 0]);
    assertInvariants(memory);
  });

  it('exit with an exclusive entry whose page the driver still holds frees it at the last put', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    await mm.exit();
    expect(memory.refcount[page.pfn]).toBe(1);
    page.unlock();
    page.put();
    expect(allFree(memory)).toBe(true);
  });

  it('fork restores the entry in the parent and copies it as COW; the child has no exclusive entry', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    page.put();
    const log = await recordRanges(mm);
    const child = await mm.fork();
    expect(log[0]?.event).toBe(MmuNotifierEvent.PROTECTION_PAGE);
    expect(exclusiveEntries(mm)).toEqual([]);
    expect(exclusiveEntries(child)).toEqual([]);
    expect(entryAt(mm, addr).kind).toBe(PteKind.PRESENT);
    expect(entryAt(mm, addr).writable).toBe(false);
    expect(entryAt(child, addr).pfn).toBe(page.pfn);
    await mm.write(addr, new Uint8Array([7]));
    expect([...(await child.read(addr, 1))]).toEqual([1]);
    expect([...(await mm.read(addr, 1))]).toEqual([7]);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('fork while the driver holds the page lock fails with ENOMEM, as copy_pte_range() turns -EBUSY into a failed fork; the device keeps its entry', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    await expect(mm.fork()).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(exclusiveEntries(mm)).toEqual([addr]);
    assertInvariants(memory);
    page.unlock();
    page.put();
    const child = await mm.fork();
    expect(exclusiveEntries(mm)).toEqual([]);
    expect(exclusiveEntries(child)).toEqual([]);
    expect([...(await child.read(addr, 1))]).toEqual([1]);
    assertInvariants(memory);
  });
});
