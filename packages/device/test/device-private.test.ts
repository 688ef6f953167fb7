import {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { Mm, PAGE_SIZE, PageTableWalker, PhysicalMemory, PteKind } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import {
  Device,
  type DeviceContext,
  type DeviceMemoryPool,
  StaleTranslationError,
} from '../src/index.js';
import { ANON, pattern, RW } from './helpers.js';
import { type DriverBug, MirrorDriver } from './mirror-driver.js';

/**
 * Migrates the page at `addr` into the device's private pool, charged to `ctx`, with
 * migrate_vma (test_hmm.c's dmirror_migrate_to_device); the pool's own migrateToRam brings
 * it back on a CPU fault.
 */
async function migrateToDevice(pool: DeviceMemoryPool, ctx: DeviceContext, mm: Mm, addr: number) {
  await mm.mmapLock.downRead();
  try {
    const args: MigrateVma = {
      mm,
      vma: mm.vmaLookup(addr)!,
      start: addr,
      end: addr + PAGE_SIZE,
      src: new Float64Array(1),
      dst: new Float64Array(1),
      cpages: 0,
      npages: 0,
      pgmapOwner: pool.owner,
      flags: MIGRATE_VMA_SELECT_SYSTEM,
    };
    await migrateVmaSetup(args);
    if (args.src[0]! & MIGRATE_PFN_MIGRATE) {
      const page = pool.allocPage(ctx);
      pool.pool.memory.copyPage(page, migratePfnToPage(args.src[0]!));
      args.dst[0] = migratePfn(page);
    }
    await migrateVmaPages(args);
    migrateVmaFinalize(args);
  } finally {
    mm.mmapLock.upRead();
  }
}

async function privateSystem(bug: DriverBug) {
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
  await mm.write(addr, pattern(PAGE_SIZE, 3));
  const device = new Device(memory);
  const vram = device.createPool({ type: 'private', nrPages: 4 });
  const driver = await MirrorDriver.open(device, mm, bug, vram.owner);
  await migrateToDevice(vram, driver.ctx, mm, addr);
  const w = new PageTableWalker(mm);
  w.reset(addr, addr + PAGE_SIZE);
  w.next();
  expect(w.kind).toBe(PteKind.DEVICE_PRIVATE);
  return { memory, mm, addr, device, vram, ctx: driver.ctx, devicePfn: w.pfn };
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

  it('removing the pool evicts the page: the process keeps its data and the device follows it to RAM', async () => {
    const { ctx, addr, mm, device, vram, devicePfn } = await privateSystem('none');
    await ctx.dmaRead(addr, 8);
    await device.removePool(vram);
    expect(device.pools).toEqual([]);
    expect(vram.pool.pagemap.state).toBe('dead');
    expect(device.fdinfo(ctx).memory.vram).toEqual({ total: 0, resident: 0 });
    expect(await ctx.dmaRead(addr, 8)).toEqual(pattern(8, 3));
    expect(ctx.entryAt(addr)?.pfn).not.toBe(devicePfn);
    expect(await mm.read(addr, 8)).toEqual(pattern(8, 3));
    expect(device.violations).toEqual([]);
    device.assertInvariants();
  });
});
