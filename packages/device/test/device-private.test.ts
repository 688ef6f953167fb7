import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { Mm, PAGE_SIZE, PageTableWalker, PhysicalMemory, PteKind, type VmFault } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import { Device, StaleTranslationError } from '../src/index.js';
import { ANON, pattern, RW } from './helpers.js';
import { type DriverBug, MirrorDriver } from './mirror-driver.js';

/**
 * Device-private memory for the tests: one pagemap, a free list, migrate one page to the
 * device with migrate_vma, and migrate_to_ram on a CPU fault (as test_hmm.c does).
 */
class PrivateMemory {
  readonly owner = { name: 'vram' };
  readonly free: number[] = [];

  constructor(readonly memory: PhysicalMemory) {
    const pgmap = memory.registerDevicePages({
      nrPages: 4,
      owner: this.owner,
      type: 'private',
      ops: {
        migrateToRam: (vmf) => this.migrate(vmf.mm, vmf.address, vmf),
        pageFree: (pfn) => this.free.push(pfn),
      },
    });
    for (let i = 3; i >= 0; i--) this.free.push(pgmap.firstPfn + i);
  }

  /** Migrates the page at `addr` to device memory (vmf undefined) or back to RAM. */
  async migrate(mm: Mm, addr: number, vmf?: VmFault): Promise<number> {
    if (vmf === undefined) await mm.mmapLock.downRead();
    try {
      const args: MigrateVma = {
        mm,
        vma: vmf?.vma ?? mm.vmaLookup(addr)!,
        start: addr,
        end: addr + PAGE_SIZE,
        src: new Float64Array(1),
        dst: new Float64Array(1),
        cpages: 0,
        npages: 0,
        pgmapOwner: this.owner,
        flags: vmf ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE : MIGRATE_VMA_SELECT_SYSTEM,
        ...(vmf ? { faultPage: vmf.pfn } : {}),
      };
      await migrateVmaSetup(args);
      if (args.src[0]! & MIGRATE_PFN_MIGRATE) {
        const page = vmf ? this.memory.allocPage() : this.free.pop()!;
        if (vmf) this.memory.trylockPage(page);
        else this.memory.zoneDevicePageInit(page);
        this.memory.copyPage(page, migratePfnToPage(args.src[0]!));
        args.dst[0] = migratePfn(page);
      }
      await migrateVmaPages(args);
      migrateVmaFinalize(args);
      return 0;
    } finally {
      if (vmf === undefined) mm.mmapLock.upRead();
    }
  }
}

async function privateSystem(bug: DriverBug) {
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
  await mm.write(addr, pattern(PAGE_SIZE, 3));
  const vram = new PrivateMemory(memory);
  const device = new Device(memory);
  const driver = await MirrorDriver.open(device, mm, bug, vram.owner);
  await vram.migrate(mm, addr);
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + PAGE_SIZE);
  w.next();
  expect(w.kind).toBe(PteKind.DEVICE_PRIVATE);
  return { memory, mm, addr, device, ctx: driver.ctx, devicePfn: w.pfn };
}

describe('device-private memory', () => {
  it('the device reads its own private page through the CPU entry hmm reports, with no report', async () => {
    const { ctx, addr, device, devicePfn } = await privateSystem('none');
    expect(await ctx.dmaRead(addr, 8)).toEqual(pattern(8, 3));
    expect(ctx.entryAt(addr)?.pfn).toBe(devicePfn);
    expect(device.fdinfo(ctx).memory.vram).toEqual({ total: PAGE_SIZE, resident: PAGE_SIZE });
    expect(device.violations).toEqual([]);
  });

  it('after a CPU access migrates the page back, a driver that ignored the invalidation is reported', async () => {
    const { ctx, addr, mm, devicePfn } = await privateSystem('no-invalidate');
    await ctx.dmaRead(addr, 8);
    expect(await mm.read(addr, 8)).toEqual(pattern(8, 3));
    const err = await ctx.dmaRead(addr, 8).catch((e) => e);
    expect(err).toBeInstanceOf(StaleTranslationError);
    expect(err.access.pfn).toBe(devicePfn);
    expect(err.access.reason).toBe('the device page is free');
  });

  it('with a correct driver the device follows the page back to RAM', async () => {
    const { ctx, addr, mm, devicePfn } = await privateSystem('none');
    await ctx.dmaRead(addr, 8);
    await mm.write(addr, new Uint8Array([99]));
    expect(await ctx.dmaRead(addr, 1)).toEqual(new Uint8Array([99]));
    expect(ctx.entryAt(addr)?.pfn).not.toBe(devicePfn);
    expect(ctx.residentBytes).toEqual({ system: PAGE_SIZE, vram: 0 });
  });
});
