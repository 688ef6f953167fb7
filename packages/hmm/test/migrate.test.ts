import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  type MigrateVma,
  migratePfn,
  migratePfnFlags,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import {
  assertInvariants,
  FOLL_LONGTERM,
  FOLL_WRITE,
  MAP_SHARED,
  type Mm,
  PTE_PRESENT,
  PTE_SPECIAL,
  PteKind,
} from '@hmmkit/mm';
import { MMU_NOTIFIER_RANGE_BLOCKABLE, MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeFault } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

function kindAt(mm: Mm, addr: number): number {
  const slot = mm.pt.pteSlot(addr, false);
  const b = slot < 0 ? 0 : mm.pt.bits[slot]!;
  return b === 0 ? PteKind.NONE : b & PTE_PRESENT ? PteKind.PRESENT : (b >> 8) & 7;
}

function pfnAt(mm: Mm, addr: number): number {
  return mm.pt.pfn[mm.pt.pteSlot(addr, false)]!;
}

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

async function populated(pages: number) {
  const { memory, mm } = machine();
  const addr = await mm.mmap(pages * PAGE, RW, ANON);
  const data = bytes(pages * PAGE, 3);
  await mm.write(addr, data);
  return { memory, mm, addr, data };
}

describe('migrate to device memory and back', () => {
  it('pages move to the device as device-private entries and come back on CPU access with their data', async () => {
    const { memory, mm, addr, data } = await populated(4);
    const dev = new TinyDevice(memory, 8);
    const mig = await dev.migrateToDevice(mm, addr, 4);
    expect(mig.cpages).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(mig.src[i]! & MIGRATE_PFN_MIGRATE).toBe(MIGRATE_PFN_MIGRATE);
      expect(kindAt(mm, addr + i * PAGE)).toBe(PteKind.DEVICE_PRIVATE);
      expect(memory.pagemapOf(pfnAt(mm, addr + i * PAGE))?.owner).toBe(dev.owner);
    }
    expect(dev.pool.nrFree).toBe(4);
    assertInvariants(memory);
    expect(await mm.read(addr, 4 * PAGE)).toEqual(data);
    expect(dev.faults).toBe(4);
    for (let i = 0; i < 4; i++) expect(kindAt(mm, addr + i * PAGE)).toBe(PteKind.PRESENT);
    expect(dev.pool.nrFree).toBe(8);
    assertInvariants(memory);
  });

  it('setup records each page with MIGRATE_PFN_VALID, MIGRATE and WRITE and locks it', async () => {
    const { memory, mm, addr } = await populated(1);
    const pfn = pfnAt(mm, addr);
    const args = vmaArgs(mm, addr, 1, {});
    await mm.mmapLock.downRead();
    await migrateVmaSetup(args);
    expect(migratePfnToPage(args.src[0]!)).toBe(pfn);
    expect(migratePfnFlags(args.src[0]!)).toBe(
      MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE,
    );
    expect(kindAt(mm, addr)).toBe(PteKind.MIGRATION);
    expect(memory.isUnlocked(pfn)).toBe(false);
    // No destination given: the page stays where it was.
    await migrateVmaPages(args);
    expect(args.src[0]! & MIGRATE_PFN_MIGRATE).toBe(0);
    migrateVmaFinalize(args);
    mm.mmapLock.upRead();
    expect(pfnAt(mm, addr)).toBe(pfn);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
    expect(memory.isUnlocked(pfn)).toBe(true);
    assertInvariants(memory);
  });

  it('pte_none and zero-page sources give MIGRATE without a pfn and receive a cleared device page', async () => {
    const { memory, mm } = machine();
    const addr = await mm.mmap(2 * PAGE, RW, ANON);
    await mm.read(addr + PAGE, 1); // zero page at the second page
    const dev = new TinyDevice(memory, 4);
    const mig = await dev.migrateToDevice(mm, addr, 2);
    expect([mig.src[0], mig.src[1]]).toEqual([MIGRATE_PFN_MIGRATE, MIGRATE_PFN_MIGRATE]);
    expect(mig.cpages).toBe(2);
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    expect(kindAt(mm, addr + PAGE)).toBe(PteKind.DEVICE_PRIVATE);
    assertInvariants(memory);
    expect(await mm.read(addr, 2 * PAGE)).toEqual(new Uint8Array(2 * PAGE));
  });

  it('setup sends MMU_NOTIFY_MIGRATE with the pgmap owner over the range', async () => {
    const { memory, mm, addr } = await populated(2);
    const seen: { event: number; owner: unknown; start: number; end: number; flags: number }[] = [];
    await mm.notifiers.register({
      invalidateRangeStart(_s, r) {
        seen.push({ event: r.event, owner: r.owner, start: r.start, end: r.end, flags: r.flags });
        return 0;
      },
    });
    const dev = new TinyDevice(memory, 4);
    await dev.migrateToDevice(mm, addr, 2);
    expect(seen[0]).toEqual({
      event: MmuNotifierEvent.MIGRATE,
      owner: dev.owner,
      start: addr,
      end: addr + 2 * PAGE,
      flags: MMU_NOTIFIER_RANGE_BLOCKABLE,
    });
  });

  it('hmmRangeFault sees the device pages as the owner`s and as faultable for others', async () => {
    const { memory, mm, addr } = await populated(2);
    const sub = await mirror(mm, addr, 2 * PAGE);
    const dev = new TinyDevice(memory, 4);
    await dev.migrateToDevice(mm, addr, 2);
    const own = await rangeFault(mm, sub, addr, addr + 2 * PAGE, { owner: dev.owner });
    expect([...own.hmmPfns.flags]).toEqual([
      HMM_PFN_VALID | HMM_PFN_WRITE,
      HMM_PFN_VALID | HMM_PFN_WRITE,
    ]);
    expect(memory.pagemapOf(own.hmmPfns.pfn[0]!)?.owner).toBe(dev.owner);
    const other = await rangeFault(mm, sub, addr, addr + 2 * PAGE);
    expect([...other.hmmPfns.flags]).toEqual([0, 0]);
  });

  it('only device-private pages of the caller`s owner are selected with SELECT_DEVICE_PRIVATE', async () => {
    const { memory, mm, addr } = await populated(2);
    const mine = new TinyDevice(memory, 2);
    const theirs = new TinyDevice(memory, 2);
    await mine.migrateToDevice(mm, addr, 1);
    await theirs.migrateToDevice(mm, addr + PAGE, 1);
    await mm.mmapLock.downRead();
    const args = vmaArgs(mm, addr, 2, {
      flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
      pgmapOwner: mine.owner,
    });
    await migrateVmaSetup(args);
    expect(args.src[0]! & MIGRATE_PFN_MIGRATE).toBe(MIGRATE_PFN_MIGRATE);
    expect(args.src[1]).toBe(0);
    expect(args.cpages).toBe(1);
    await migrateVmaPages(args);
    migrateVmaFinalize(args);
    mm.mmapLock.upRead();
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    assertInvariants(memory);
  });

  it('file-backed holes are not selected: only anonymous private memory migrates', async () => {
    const { memory, mm } = machine();
    const file = memory.createFile(2 * PAGE);
    const addr = await mm.mmap(2 * PAGE, RW, MAP_SHARED, { file });
    const dev = new TinyDevice(memory, 4);
    const mig = await dev.migrateToDevice(mm, addr, 2);
    expect(mig.cpages).toBe(0);
    expect([mig.src[0], mig.src[1]]).toEqual([0, 0]);
  });

  it('a pinned page is dropped from the migration and keeps its mapping', async () => {
    const { memory, mm, addr } = await populated(2);
    const [pin] = await mm.pinUserPages(addr, 1, FOLL_WRITE);
    const dev = new TinyDevice(memory, 4);
    const mig = await dev.migrateToDevice(mm, addr, 2);
    expect(mig.src[0]).toBe(0);
    expect(mig.cpages).toBe(1);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
    expect(pfnAt(mm, addr)).toBe(pin!.pfn);
    expect(kindAt(mm, addr + PAGE)).toBe(PteKind.DEVICE_PRIVATE);
    pin!.release();
    assertInvariants(memory);
  });

  it('a page shared with a forked child migrates in both address spaces', async () => {
    const { memory, mm, addr, data } = await populated(1);
    const child = await mm.fork();
    const dev = new TinyDevice(memory, 2);
    const mig = await dev.migrateToDevice(mm, addr, 1);
    expect(mig.cpages).toBe(1);
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    expect(kindAt(child, addr)).toBe(PteKind.DEVICE_PRIVATE);
    assertInvariants(memory);
    expect(await child.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
    expect(await mm.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
    assertInvariants(memory);
  });
});

describe('the CPU-fault race in migrateVmaPages', () => {
  it('a CPU fault that fills a hole after setup makes that page lose MIGRATE_PFN_MIGRATE', async () => {
    const { memory, mm } = machine();
    const addr = await mm.mmap(2 * PAGE, RW, ANON);
    await mm.write(addr, bytes(PAGE, 1));
    const dev = new TinyDevice(memory, 4);
    const cpuData = bytes(PAGE, 99);
    dev.beforePages = async () => {
      // The driver dropped no lock, but nothing locks a hole: the CPU faults it in first.
      mm.mmapLock.upRead();
      await mm.write(addr + PAGE, cpuData);
      await mm.mmapLock.downRead();
    };
    const mig = await dev.migrateToDevice(mm, addr, 2);
    expect(mig.src[0]! & MIGRATE_PFN_MIGRATE).toBe(MIGRATE_PFN_MIGRATE);
    expect(mig.src[1]! & MIGRATE_PFN_MIGRATE).toBe(0);
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    expect(kindAt(mm, addr + PAGE)).toBe(PteKind.PRESENT);
    expect(dev.pool.nrFree).toBe(3); // the unused device page went back to the pool
    expect(await mm.read(addr + PAGE, PAGE)).toEqual(cpuData);
    assertInvariants(memory);
  });

  it('a CPU fault on a collected page waits for the migration instead of racing it', async () => {
    const { memory, mm, addr, data } = await populated(1);
    const dev = new TinyDevice(memory, 2);
    let kindSeen = -1;
    dev.beforePages = async () => {
      kindSeen = kindAt(mm, addr);
    };
    await dev.migrateToDevice(mm, addr, 1);
    expect(kindSeen).toBe(PteKind.MIGRATION);
    expect(await mm.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
  });
});

describe('eviction and long-term pins', () => {
  it('migrateDeviceRange evicts every device page to system memory with its data', async () => {
    const { memory, mm, addr, data } = await populated(3);
    const dev = new TinyDevice(memory, 4);
    await dev.migrateToDevice(mm, addr, 3);
    expect(await dev.evictAll()).toBe(3);
    for (let i = 0; i < 3; i++) expect(kindAt(mm, addr + i * PAGE)).toBe(PteKind.PRESENT);
    expect(dev.pool.nrFree).toBe(4);
    expect(dev.faults).toBe(0);
    expect(await mm.read(addr, 3 * PAGE)).toEqual(data);
    assertInvariants(memory);
  });

  it('a FOLL_LONGTERM pin of a device-private page migrates it to system memory first', async () => {
    const { memory, mm, addr, data } = await populated(1);
    const dev = new TinyDevice(memory, 2);
    await dev.migrateToDevice(mm, addr, 1);
    const [pin] = await mm.pinUserPages(addr, 1, FOLL_LONGTERM | FOLL_WRITE);
    expect(memory.pagemapOf(pin!.pfn)).toBeUndefined();
    expect(dev.faults).toBe(1);
    pin!.release();
    expect(await mm.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
  });

  it('device-coherent pages are present, non-special PTEs that hmmRangeFault reports VALID', async () => {
    const { memory, mm, addr, data } = await populated(1);
    const sub = await mirror(mm, addr, PAGE);
    const dev = new TinyDevice(memory, 2, 'coherent');
    await dev.migrateToDevice(mm, addr, 1);
    const slot = mm.pt.pteSlot(addr, false);
    expect(mm.pt.bits[slot]! & (PTE_PRESENT | PTE_SPECIAL)).toBe(PTE_PRESENT);
    const r = await rangeFault(mm, sub, addr, addr + PAGE, { defaultFlags: HMM_PFN_REQ_FAULT });
    expect(r.hmmPfns.flags[0]).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect(memory.pagemapOf(r.hmmPfns.pfn[0]!)?.type).toBe('coherent');
    expect(await mm.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
    assertInvariants(memory);
  });
});

function vmaArgs(mm: Mm, addr: number, npages: number, o: Partial<MigrateVma>): MigrateVma {
  return {
    mm,
    vma: mm.vmaLookup(addr)!,
    start: addr,
    end: addr + npages * PAGE,
    src: new Float64Array(npages),
    dst: new Float64Array(npages),
    cpages: 0,
    npages: 0,
    pgmapOwner: undefined,
    flags: 1,
    ...o,
  };
}

describe('device-coherent memory and long-term pins', () => {
  it('a FOLL_LONGTERM pin migrates a device-coherent page to system memory first', async () => {
    const { memory, mm, addr, data } = await populated(1);
    const dev = new TinyDevice(memory, 2, 'coherent');
    await dev.migrateToDevice(mm, addr, 1);
    expect(memory.pagemapOf(pfnAt(mm, addr))?.type).toBe('coherent');
    const [pin] = await mm.pinUserPages(addr, 1, FOLL_LONGTERM | FOLL_WRITE);
    expect(memory.pagemapOf(pin!.pfn)).toBeUndefined();
    expect(pfnAt(mm, addr)).toBe(pin!.pfn);
    pin!.release();
    expect(await mm.read(addr, PAGE)).toEqual(data.subarray(0, PAGE));
    assertInvariants(memory);
  });
});

describe('the fault page is locked by the fault path, not by the migration', () => {
  /** What do_swap_page() does before migrate_to_ram(): the device page locked and referenced. */
  async function faultingOnDevicePage() {
    const { memory, mm, addr, data } = await populated(1);
    const dev = new TinyDevice(memory, 2);
    await dev.migrateToDevice(mm, addr, 1);
    const dpage = pfnAt(mm, addr);
    expect(memory.trylockPage(dpage)).toBe(true);
    memory.getPage(dpage);
    const args: MigrateVma = {
      mm,
      vma: mm.vmaLookup(addr)!,
      start: addr,
      end: addr + PAGE,
      src: new Float64Array(1),
      dst: new Float64Array(1),
      cpages: 0,
      npages: 0,
      pgmapOwner: dev.owner,
      flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
      faultPage: dpage,
    };
    return { memory, mm, addr, data, dev, dpage, args };
  }

  it('the device page migrates to RAM while the fault path keeps it locked throughout', async () => {
    const { memory, mm, addr, data, dev, dpage, args } = await faultingOnDevicePage();
    await mm.mmapLock.downRead();
    await migrateVmaSetup(args);
    expect(args.cpages).toBe(1);
    expect(migratePfnToPage(args.src[0]!)).toBe(dpage);
    const page = memory.allocPage();
    expect(memory.trylockPage(page)).toBe(true);
    memory.copyPage(page, dpage);
    args.dst[0] = migratePfn(page);
    await migrateVmaPages(args);
    migrateVmaFinalize(args);
    mm.mmapLock.upRead();
    expect(memory.isUnlocked(dpage)).toBe(false);
    expect(memory.isUnlocked(page)).toBe(true);
    memory.unlockPage(dpage); // do_swap_page() after migrate_to_ram()
    memory.putPage(dpage);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
    expect(pfnAt(mm, addr)).toBe(page);
    expect(dev.pool.nrFree).toBe(2);
    expect(await mm.read(addr, PAGE)).toEqual(data);
    assertInvariants(memory);
  });

  it('a fault page dropped for an extra reference keeps the fault path`s lock and its entry', async () => {
    const { memory, mm, addr, dev, dpage, args } = await faultingOnDevicePage();
    memory.getPage(dpage); // someone else's reference
    await mm.mmapLock.downRead();
    await migrateVmaSetup(args);
    expect(args.cpages).toBe(0);
    expect(args.src[0]).toBe(0);
    expect(memory.isUnlocked(dpage)).toBe(false);
    migrateVmaFinalize(args);
    mm.mmapLock.upRead();
    expect(memory.isUnlocked(dpage)).toBe(false);
    memory.unlockPage(dpage);
    memory.putPage(dpage);
    memory.putPage(dpage);
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    expect(pfnAt(mm, addr)).toBe(dpage);
    expect(dev.pool.nrFree).toBe(1);
    assertInvariants(memory);
  });
});
