import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import { assertInvariants, migratePage, PAGE_SIZE, PteKind, reclaimPage } from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { AtomicDevice, allFree, entryAt, withMmapRead } from './device.js';
import { setup } from './helpers.js';

describe('the owner filter and the driver retry loop', () => {
  it('a driver that skips its own MMU_NOTIFY_EXCLUSIVE maps the page on the first attempt', async () => {
    const { mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE);
    await dev.takeAtomic(addr);
    expect(dev.attempts).toBe(1);
    expect(dev.atomic.get(addr)).toBe(entryAt(mm, addr).pfn);
    expect(dev.seen).toEqual([
      { event: MmuNotifierEvent.EXCLUSIVE, owner: dev, start: addr, skipped: true },
    ]);
  });

  it('a driver that reads its sequence first and does not filter its own event livelocks', async () => {
    const { mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'dev', {
      filterOwn: false,
      maxAttempts: 8,
      order: 'nouveau',
    });
    await expect(dev.takeAtomic(addr)).rejects.toMatchObject({ code: 'EBUSY' });
    expect(dev.attempts).toBe(9);
    expect(dev.atomic.size).toBe(0);
    const own = dev.seen.filter((s) => s.event === MmuNotifierEvent.EXCLUSIVE && s.owner === dev);
    expect(own.length).toBe(8);
  });

  it('a driver that reads its sequence after makeDeviceExclusive is not hurt by its own event', async () => {
    const { mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'dev', { filterOwn: false });
    await dev.takeAtomic(addr);
    expect(dev.attempts).toBe(1);
    expect(dev.seen.map((s) => [s.event, s.skipped])).toEqual([
      [MmuNotifierEvent.EXCLUSIVE, false],
    ]);
  });

  it('the second device to ask for a page revokes the first, which sees CLEAR then EXCLUSIVE', async () => {
    const { memory, mm, addr } = await setup();
    const a = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'a');
    const b = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'b');
    await a.atomicAdd(addr, 1, [b]);
    a.seen.length = 0;
    await b.atomicAdd(addr, 1, [a]);
    expect(a.atomic.size).toBe(0);
    expect(a.seen.map((s) => [s.event, s.owner, s.skipped])).toEqual([
      [MmuNotifierEvent.CLEAR, undefined, false],
      [MmuNotifierEvent.EXCLUSIVE, b, false],
    ]);
    expect(b.view(addr, 1)).toEqual(new Uint8Array([3]));
    expect([...(await mm.read(addr, 1))]).toEqual([3]);
    expect(b.atomic.size).toBe(0);
    assertInvariants(memory);
  });

  it('with read_begin before make (nouveau order) a device livelocks taking a page another device holds', async () => {
    const { mm, addr } = await setup();
    const a = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'a');
    const b = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE, 'b', {
      order: 'nouveau',
      maxAttempts: 8,
    });
    await a.atomicAdd(addr, 1, [b]);
    // Each attempt's GUP restores the entry the previous attempt installed: MMU_NOTIFY_CLEAR
    // with no owner, after read_begin, so read_retry always fails.
    await expect(b.atomicAdd(addr, 1, [a])).rejects.toMatchObject({ code: 'EBUSY' });
    const kinds = b.seen.slice(1).map((s) => s.event);
    expect(kinds).toEqual(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0 ? MmuNotifierEvent.CLEAR : MmuNotifierEvent.EXCLUSIVE,
      ),
    );
  });

  it('after device atomics and a CPU read, both views agree and the device mapping is gone', async () => {
    const { memory, mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE);
    for (let i = 0; i < 5; i++) await dev.atomicAdd(addr + 2, 10);
    const deviceView = dev.view(addr, 4);
    expect(deviceView).toEqual(new Uint8Array([1, 2, 53, 4]));
    expect(await mm.read(addr, 4)).toEqual(deviceView);
    expect(dev.atomic.size).toBe(0);
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('fork revokes the device mapping through its PROTECTION_PAGE invalidation', async () => {
    const { memory, mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, 4 * PAGE_SIZE);
    await dev.atomicAdd(addr, 1);
    const child = await mm.fork();
    expect(dev.atomic.size).toBe(0);
    expect(dev.seen.at(-1)?.event).toBe(MmuNotifierEvent.PROTECTION_PAGE);
    expect([...(await child.read(addr, 1))]).toEqual([2]);
    await child.exit();
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });
});

describe('reclaim and migration of a device-exclusive page', () => {
  it('reclaim keeps the bytes of a device-exclusive page', async () => {
    const { memory, mm, addr } = await setup();
    const page = await withMmapRead(mm, () => makeDeviceExclusive(mm, addr, 'dev'));
    page.unlock();
    page.put();
    await reclaimPage(memory, page.pfn);
    expect([...(await mm.read(addr, 4))]).toEqual([1, 2, 3, 4]);
    assertInvariants(memory);
  });

  it('reclaim swaps a device-exclusive page out, as try_to_unmap_one() does since v6.15: the device is told, no byte is lost', async () => {
    const { memory, mm, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev');
    await dev.atomicAdd(addr, 10);
    const pfn = dev.atomic.get(addr)!;
    expect(entryAt(mm, addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    const free = memory.freePages;
    expect(await reclaimPage(memory, pfn)).toBe(true);
    expect(memory.freePages).toBe(free + 1);
    expect(entryAt(mm, addr).kind).toBe(PteKind.SWAP);
    // The unmap's MMU_NOTIFY_CLEAR has no owner: the device dropped its atomic mapping.
    expect(dev.seen.at(-1)).toEqual({
      event: MmuNotifierEvent.CLEAR,
      owner: undefined,
      start: addr,
      skipped: false,
    });
    expect(dev.atomic.size).toBe(0);
    expect([...(await mm.read(addr, 4))]).toEqual([11, 2, 3, 4]);
    await dev.atomicAdd(addr, 1);
    expect([...(await mm.read(addr, 4))]).toEqual([12, 2, 3, 4]);
    assertInvariants(memory);
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });

  it('migration turns a device-exclusive entry into a migration entry, as try_to_migrate_one() does since v6.15: the device is told, no byte is lost', async () => {
    const { mm, memory, addr } = await setup();
    const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev');
    await dev.atomicAdd(addr, 10);
    const pfn = dev.atomic.get(addr)!;
    const dst = await migratePage(memory, pfn);
    expect(dst).toBeGreaterThanOrEqual(0);
    expect(dst).not.toBe(pfn);
    // Back as an ordinary present PTE of the new frame: exclusivity has to be asked again.
    expect(entryAt(mm, addr)).toMatchObject({ kind: PteKind.PRESENT, pfn: dst });
    expect(dev.seen.at(-1)).toEqual({
      event: MmuNotifierEvent.CLEAR,
      owner: undefined,
      start: addr,
      skipped: false,
    });
    expect(dev.atomic.size).toBe(0);
    expect([...(await mm.read(addr, 4))]).toEqual([11, 2, 3, 4]);
    await dev.atomicAdd(addr, 1);
    expect(dev.atomic.get(addr)).toBe(dst);
    expect([...(await mm.read(addr, 4))]).toEqual([12, 2, 3, 4]);
    assertInvariants(memory);
    await mm.exit();
    expect(allFree(memory)).toBe(true);
  });
});
