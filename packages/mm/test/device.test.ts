import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FAULT_FLAG_WRITE,
  FOLL_LONGTERM,
  FOLL_WRITE,
  Mm,
  migratePage,
  PG_ZONE_DEVICE,
  PhysicalMemory,
  PROT_NONE,
  PROT_READ,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_WRITE,
  PteKind,
  ptepClearFlush,
  reclaimPage,
  restoreExclusivePteLocked,
  setPteAt,
  swpBits,
  VM_FAULT_SIGBUS,
  type VmFault,
} from '../src/index.js';
import { ANON, fill, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

/** Installs a device-exclusive entry for the page at `a`, the way make_device_exclusive does. */
async function makeExclusive(mm: Mm, a: number): Promise<number> {
  const pfn = pfnAt(mm, a);
  const range = await mm.invalidateStart(MmuNotifierEvent.EXCLUSIVE, a, a + 4096, 'me');
  mm.ptl.lock();
  ptepClearFlush(mm, a);
  setPteAt(mm, a, pfn, swpBits(PteKind.DEVICE_EXCLUSIVE, false));
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
  return pfn;
}

/** Moves the page at `a` to a device page, the way migrate_vma does (simplified). */
async function toDevice(mm: Mm, a: number, devPfn: number): Promise<void> {
  const memory = mm.memory;
  const src = pfnAt(mm, a);
  memory.zoneDevicePageInit(devPfn);
  memory.copyPage(devPfn, src);
  memory.mapping[devPfn] = memory.mapping[src]!;
  memory.index[devPfn] = memory.index[src]!;
  const range = await mm.invalidateStart(MmuNotifierEvent.MIGRATE, a, a + 4096, 'dev');
  mm.ptl.lock();
  ptepClearFlush(mm, a);
  setPteAt(mm, a, devPfn, swpBits(PteKind.DEVICE_PRIVATE, true));
  memory.mapcount[src]!--;
  memory.mapcount[devPfn]!++;
  mm.ptl.unlock();
  await mm.notifiers.invalidateRangeEnd(range);
  memory.putPage(src);
  memory.unlockPage(devPfn);
}

describe('device-private entries', () => {
  it('a CPU fault without a migrateToRam hook is a SIGBUS with a clear message', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const pgmap = memory.registerDevicePages({ nrPages: 4, owner: 'dev', type: 'private' });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 3));
    await toDevice(mm, a, pgmap.firstPfn);
    assertInvariants(memory);
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a, 0)).toBe(VM_FAULT_SIGBUS);
    mm.mmapLock.upRead();
    await expect(mm.read(a, 1)).rejects.toThrow(/SIGBUS.*migrateToRam/);
    await expect(mm.getUserPages(a, 1, 0)).rejects.toMatchObject({ code: 'EFAULT' });
  });

  it('a CPU fault calls the pagemap migrateToRam hook with the fault descriptor and the device page locked', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const seen: VmFault[] = [];
    const lockedInHook: boolean[] = [];
    const pgmap = memory.registerDevicePages({
      nrPages: 4,
      owner: 'dev',
      type: 'private',
      ops: {
        migrateToRam(vmf) {
          seen.push(vmf);
          const m = vmf.mm.memory;
          lockedInHook.push(!m.isUnlocked(vmf.pfn));
          const dst = m.allocPage();
          m.copyPage(dst, vmf.pfn);
          m.flags[dst] = m.flags[vmf.pfn]! & ~0x20;
          m.mapping[dst] = m.mapping[vmf.pfn]!;
          m.index[dst] = m.index[vmf.pfn]!;
          vmf.mm.ptl.lock();
          setPteAt(vmf.mm, vmf.address, dst, 0x1 | 0x2 | 0x8);
          m.mapcount[dst] = 1;
          m.mapcount[vmf.pfn]!--;
          vmf.mm.ptl.unlock();
          m.putPage(vmf.pfn);
          return 0;
        },
      },
    });
    const freed: number[] = [];
    pgmap.ops.pageFree = (pfn) => freed.push(pfn);
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 3));
    await toDevice(mm, a, pgmap.firstPfn);
    expect((await mm.read(a, 2))[1]).toBe(3);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      address: a,
      kind: PteKind.DEVICE_PRIVATE,
      pfn: pgmap.firstPfn,
    });
    expect(lockedInHook).toEqual([true]);
    expect(memory.isUnlocked(pgmap.firstPfn)).toBe(true);
    expect(freed).toEqual([pgmap.firstPfn]);
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    assertInvariants(memory);
    await mm.exit();
    expect(memory.freePages).toBe(16);
  });

  it('a CPU fault on a locked device page calls no hook until the holder unlocks it, as do_swap_page trylocks', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    let calls = 0;
    const pgmap = memory.registerDevicePages({
      nrPages: 2,
      owner: 'dev',
      type: 'private',
      ops: {
        migrateToRam() {
          calls++;
          return VM_FAULT_SIGBUS;
        },
      },
    });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    await toDevice(mm, a, pgmap.firstPfn);
    expect(memory.trylockPage(pgmap.firstPfn)).toBe(true); // a migration holds it
    const fault = spawn('cpu', async () => {
      await mm.mmapLock.downRead();
      try {
        return await mm.handleMmFault(a, 0);
      } finally {
        mm.mmapLock.upRead();
      }
    });
    await schedulePoint();
    await schedulePoint();
    expect(fault.done).toBe(false);
    expect(calls).toBe(0);
    memory.unlockPage(pgmap.firstPfn);
    expect(await fault.join()).toBe(0); // the access faults again, now without contention
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a, 0)).toBe(VM_FAULT_SIGBUS);
    mm.mmapLock.upRead();
    expect(calls).toBe(1);
    assertInvariants(memory);
  });

  it('fork shares device-private entries read-only; exit releases the device page', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const pgmap = memory.registerDevicePages({ nrPages: 2, owner: 'dev', type: 'private' });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    await toDevice(mm, a, pgmap.firstPfn);
    const child = await mm.fork();
    expect(memory.mapcount[pgmap.firstPfn]).toBe(2);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(memory.refcount[pgmap.firstPfn]).toBe(0);
    assertInvariants(memory);
  });

  it('validates device registration', () => {
    const memory = new PhysicalMemory({ pages: 4 });
    expect(() => memory.registerDevicePages({ nrPages: 0, owner: 1, type: 'private' })).toThrow(
      /nrPages/,
    );
    expect(() =>
      memory.registerDevicePages({ nrPages: 1, owner: 1, type: 'x' as 'private' }),
    ).toThrow(/type/);
    expect(() => memory.zoneDevicePageInit(1)).toThrow(/not a device page/);
  });
});

describe('device-exclusive entries', () => {
  it('a CPU fault without the restoreExclusive hook is a SIGBUS', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    await makeExclusive(mm, a);
    assertInvariants(memory);
    await expect(mm.write(a, fill(1, 2))).rejects.toThrow(/SIGBUS.*restoreExclusive/);
  });

  it('the installed hook runs and can restore the PTE with restoreExclusivePteLocked', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    const log = await recordNotifiers(mm, a);
    memory.deviceExclusiveOps = {
      async restoreExclusive(vmf) {
        const range = await vmf.mm.invalidateStart(
          MmuNotifierEvent.CLEAR,
          vmf.address,
          vmf.address + 4096,
        );
        vmf.mm.ptl.lock();
        restoreExclusivePteLocked(vmf.mm, vmf.address);
        vmf.mm.ptl.unlock();
        await vmf.mm.notifiers.invalidateRangeEnd(range);
        return 0;
      },
    };
    await makeExclusive(mm, a);
    await mm.write(a, fill(1, 2));
    expect(log.filter((r) => r.op === 'start').map((r) => [r.event, r.owner])).toEqual([
      [MmuNotifierEvent.EXCLUSIVE, 'me'],
      [MmuNotifierEvent.CLEAR, undefined],
    ]);
    expect((await mm.read(a, 1))[0]).toBe(2);
    assertInvariants(memory);
  });

  it('fork restores the parent entry first, so the child never inherits exclusivity', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    await makeExclusive(mm, a);
    const child = await mm.fork();
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    expect(kindAt(child, a)).toBe(PteKind.PRESENT);
    expect((await child.read(a, 1))[0]).toBe(1);
    await child.write(a, fill(1, 5));
    expect((await mm.read(a, 1))[0]).toBe(1);
    assertInvariants(memory);
  });

  it('an entry restored in a PROT_NONE VMA becomes a protnone PTE, as vm_page_prot says', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(8192, RW, ANON);
    await mm.write(a, fill(8192, 3));
    await makeExclusive(mm, a);
    await makeExclusive(mm, a + 4096);
    await mm.mprotect(a, 8192, PROT_NONE);
    expect(kindAt(mm, a)).toBe(PteKind.DEVICE_EXCLUSIVE);
    mm.ptl.lock();
    restoreExclusivePteLocked(mm, a);
    mm.ptl.unlock();
    const slot = mm.pt.pteSlot(a, false);
    expect(mm.pt.bits[slot]! & (PTE_PRESENT | PTE_PROTNONE | PTE_WRITE)).toBe(
      PTE_PRESENT | PTE_PROTNONE,
    );
    await expect(mm.read(a, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    // fork's restore goes through the same path: the parent keeps no access.
    const child = await mm.fork();
    const s2 = mm.pt.pteSlot(a + 4096, false);
    expect(mm.pt.bits[s2]! & (PTE_PRESENT | PTE_PROTNONE)).toBe(PTE_PRESENT | PTE_PROTNONE);
    await mm.mprotect(a, 8192, PROT_READ);
    expect([...(await mm.read(a, 8192))].every((b) => b === 3)).toBe(true);
    assertInvariants(memory);
    await child.exit();
  });

  it('fork over a locked device-exclusive page fails with ENOMEM, as copy_pte_range() does with -EBUSY', async () => {
    const memory = new PhysicalMemory({ pages: 32 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(8192, RW, ANON);
    await mm.write(a, fill(8192, 4));
    const log = await recordNotifiers(mm, a);
    await makeExclusive(mm, a);
    const held = await makeExclusive(mm, a + 4096);
    const free = memory.freePages;
    expect(memory.trylockPage(held)).toBe(true); // the driver still holds it
    await expect(mm.fork()).rejects.toMatchObject({ code: 'ENOMEM' });
    // The entry copied before the failure was restored in place; the locked one is kept.
    expect(kindAt(mm, a)).toBe(PteKind.PRESENT);
    expect(kindAt(mm, a + 4096)).toBe(PteKind.DEVICE_EXCLUSIVE);
    expect(memory.mms.size).toBe(1);
    expect(memory.freePages).toBe(free);
    const ops = log.map((r) => r.op);
    expect(ops.filter((o) => o === 'start').length).toBe(ops.filter((o) => o === 'end').length);
    assertInvariants(memory);
    memory.unlockPage(held);
    const child = await mm.fork();
    expect(kindAt(mm, a + 4096)).toBe(PteKind.PRESENT);
    expect([...(await child.read(a + 4096, 1))]).toEqual([4]);
    assertInvariants(memory);
    await child.exit();
  });

  it('migratePage turns a device-exclusive entry into a migration entry and back into a present PTE of the new frame', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 6));
    const pfn = await makeExclusive(mm, a);
    const log = await recordNotifiers(mm, a);
    const dst = await migratePage(memory, pfn);
    expect(dst).toBeGreaterThanOrEqual(0);
    expect(pfnAt(mm, a)).toBe(dst);
    // One CLEAR range with no owner, seen while the entry is a migration entry; no TLB flush
    // for the non-present entry.
    expect(log.map((r) => [r.op, r.event, r.owner, r.probeKind])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, undefined, PteKind.DEVICE_EXCLUSIVE],
      ['end', MmuNotifierEvent.CLEAR, undefined, PteKind.MIGRATION],
    ]);
    // Read-only (a device-exclusive entry gives a readable migration entry), but still
    // anon-exclusive: the write reuses the new frame.
    const slot = mm.pt.pteSlot(a, false);
    expect(mm.pt.bits[slot]! & PTE_WRITE).toBe(0);
    await mm.write(a, fill(1, 7));
    expect(pfnAt(mm, a)).toBe(dst);
    const got = await mm.read(a, 4096);
    expect(got[0]).toBe(7);
    expect(got.subarray(1).every((b) => b === 6)).toBe(true);
    assertInvariants(memory);
  });

  it('reclaimPage swaps a device-exclusive page out like a present one', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 8));
    const pfn = await makeExclusive(mm, a);
    const log = await recordNotifiers(mm, a);
    const free = memory.freePages;
    expect(await reclaimPage(memory, pfn)).toBe(true);
    expect(memory.freePages).toBe(free + 1);
    expect(kindAt(mm, a)).toBe(PteKind.SWAP);
    expect(log.map((r) => [r.op, r.event, r.owner])).toEqual([
      ['start', MmuNotifierEvent.CLEAR, undefined],
      ['end', MmuNotifierEvent.CLEAR, undefined],
    ]);
    expect((await mm.read(a, 4096)).every((b) => b === 8)).toBe(true);
    assertInvariants(memory);
  });

  it('restoreExclusivePteLocked needs the PTL and a device-exclusive entry', async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(1, 1));
    expect(() => restoreExclusivePteLocked(mm, a)).toThrow();
    mm.ptl.lock();
    expect(() => restoreExclusivePteLocked(mm, a)).toThrow(/no device-exclusive entry/);
    expect(() => setPteAt(mm, a + 1, 1, 1)).toThrow(/page-aligned/);
    expect(() => setPteAt(mm, a, 1, 0x10000)).toThrow(/16-bit/);
    mm.ptl.unlock();
    await mm.mmapLock.downRead();
    expect(await mm.handleMmFault(a, FAULT_FLAG_WRITE)).toBe(0);
    mm.mmapLock.upRead();
  });
});

describe('device-coherent pages', () => {
  async function coherentPage() {
    const memory = new PhysicalMemory({ pages: 16 });
    const freed: number[] = [];
    const pgmap = memory.registerDevicePages({
      nrPages: 2,
      owner: 'dev',
      type: 'coherent',
      ops: { pageFree: (pfn) => freed.push(pfn) },
    });
    const mm = Mm.create(memory);
    const a = await mm.mmap(4096, RW, ANON);
    await mm.write(a, fill(4096, 4));
    const src = pfnAt(mm, a);
    const dev = pgmap.firstPfn;
    memory.zoneDevicePageInit(dev);
    memory.copyPage(dev, src);
    memory.flags[dev]! |= memory.flags[src]!;
    memory.mapping[dev] = memory.mapping[src]!;
    memory.index[dev] = memory.index[src]!;
    mm.ptl.lock();
    setPteAt(mm, a, dev, 0x1 | 0x2 | 0x4 | 0x8);
    memory.mapcount[src]!--;
    memory.mapcount[dev] = 1;
    mm.ptl.unlock();
    memory.putPage(src);
    memory.unlockPage(dev);
    return { memory, mm, a, dev, freed };
  }

  it('are ordinary present pages for CPU access and short-term GUP', async () => {
    const { memory, mm, a, dev } = await coherentPage();
    expect((await mm.read(a, 1))[0]).toBe(4);
    const [ref] = await mm.getUserPages(a, 1, FOLL_WRITE);
    expect(ref!.pfn).toBe(dev);
    ref!.release();
    assertInvariants(memory);
  });

  it('a FOLL_LONGTERM pin migrates them to RAM first', async () => {
    const { memory, mm, a, dev, freed } = await coherentPage();
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(pin!.pfn).not.toBe(dev);
    expect(memory.flags[pin!.pfn]! & PG_ZONE_DEVICE).toBe(0);
    expect(freed).toEqual([dev]);
    expect((await mm.read(a, 1))[0]).toBe(4);
    pin!.release();
    assertInvariants(memory);
  });
});
