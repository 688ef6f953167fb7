import { isKernelError } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, StaleTranslationError } from '../src/index.js';
import { PAGE, pattern, system } from './helpers.js';

describe('DMA through valid translations', () => {
  it('a device read returns the bytes the CPU wrote, faulting each page in once', async () => {
    const { ctx, addr, device } = await system(4);
    const data = await ctx.dmaRead(addr + 100, 3 * PAGE);
    expect(data).toEqual(pattern(4 * PAGE).subarray(100, 100 + 3 * PAGE));
    expect(ctx.faults).toBe(4);
    expect(device.faultsDelivered).toBe(4);
    expect(ctx.mappedPages).toBe(4);
  });

  it('a device write is visible to the CPU', async () => {
    const { ctx, addr, mm } = await system(2);
    await ctx.dmaWrite(addr + PAGE - 2, new Uint8Array([9, 8, 7, 6]));
    expect(await mm.read(addr + PAGE - 2, 4)).toEqual(new Uint8Array([9, 8, 7, 6]));
  });

  it('a second read hits the TLB and faults no more', async () => {
    const { ctx, addr } = await system(2);
    await ctx.dmaRead(addr, 2 * PAGE);
    const hits = ctx.tlbStats.hits;
    await ctx.dmaRead(addr, 2 * PAGE);
    expect(ctx.faults).toBe(2);
    expect(ctx.tlbStats.hits).toBe(hits + 2);
  });

  it('a write through a read-only entry faults again for write permission and gets a new page', async () => {
    const { ctx, mm } = await system(1);
    const fresh = await mm.mmap(PAGE, 3, 0x22);
    await ctx.dmaRead(fresh, 1);
    const before = ctx.entryAt(fresh);
    await ctx.dmaWrite(fresh, new Uint8Array([1]));
    expect(ctx.faults).toBe(2);
    expect(before).toEqual({ pfn: 0, perms: DEVICE_PTE_READ });
    expect(ctx.entryAt(fresh)?.perms).toBe(DEVICE_PTE_READ | DEVICE_PTE_WRITE);
    expect(ctx.entryAt(fresh)?.pfn).not.toBe(0);
    expect(await mm.read(fresh, 1)).toEqual(new Uint8Array([1]));
  });

  it('a read of a never-touched anonymous page maps the zero page read-only and reads zeros', async () => {
    const { ctx, mm } = await system(1);
    const fresh = await mm.mmap(PAGE, 3, 0x22);
    expect(await ctx.dmaRead(fresh, 8)).toEqual(new Uint8Array(8));
    expect(ctx.entryAt(fresh)).toEqual({ pfn: 0, perms: DEVICE_PTE_READ });
  });

  it('an access with no fault handler fails with EFAULT', async () => {
    const { ctx, addr, device } = await system(1);
    device.setFaultHandler(undefined);
    await expect(ctx.dmaRead(addr, 1)).rejects.toSatisfy((e) => isKernelError(e, 'EFAULT'));
  });

  it('a fault the handler cannot resolve fails the access with EFAULT', async () => {
    const { ctx, addr, mm } = await system(1);
    await mm.munmap(addr, PAGE);
    await expect(ctx.dmaRead(addr, 1)).rejects.toSatisfy((e) => isKernelError(e, 'EFAULT'));
  });

  it('a handler that returns without mapping is retried up to maxFaultRetries, then EFAULT', async () => {
    const { ctx, addr, device } = await system(1, 'none', { maxFaultRetries: 3 });
    device.setFaultHandler(() => {});
    await expect(ctx.dmaRead(addr, 1)).rejects.toThrow(/not resolved after 3 retries/);
    expect(ctx.faults).toBe(3);
  });

  it('atomics need the ATOMIC permission: a read-write mapping faults for atomic access', async () => {
    const { ctx, addr, device, memory } = await system(1);
    await ctx.dmaWrite(addr, new Uint8Array([5, 0, 0, 0]));
    const pfn = ctx.entryAt(addr)!.pfn;
    device.setFaultHandler((f) => ctx.map(f.va, pfn, 7));
    expect(await ctx.dmaAtomicAdd(addr, 10)).toBe(5);
    expect(await ctx.dmaAtomicAdd(addr, 1)).toBe(15);
    const out = new Uint8Array(1);
    memory.readPage(pfn, 0, out, 0, 1);
    expect(out[0]).toBe(16);
  });
});

describe('stale translations', () => {
  it('a driver that forgets to invalidate: DMA after munmap is reported with the CPU view', async () => {
    const { ctx, addr, mm, device } = await system(2, 'no-invalidate');
    await ctx.dmaRead(addr, 2 * PAGE);
    const pfn = ctx.entryAt(addr)!.pfn;
    await mm.munmap(addr, 2 * PAGE);
    const err = await ctx.dmaRead(addr, 1).catch((e) => e);
    expect(err).toBeInstanceOf(StaleTranslationError);
    expect(err.kind).toBe('assertion');
    expect(err.access).toMatchObject({ va: addr, pfn, access: 'read', reason: 'the page is free' });
    expect(err.access.cpu).toEqual({ kind: 'none', pfn: -1, writable: false });
    expect(device.violations).toHaveLength(1);
  });

  it('the invariant check finds what a forgetful driver left behind, without any DMA', async () => {
    const { ctx, addr, mm, device } = await system(2, 'no-invalidate');
    await ctx.dmaRead(addr, 2 * PAGE);
    expect(device.checkInvariants()).toEqual([]);
    await mm.munmap(addr, PAGE);
    const lines = device.checkInvariants();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/page table va 0x[0-9a-f]+ -> pfn \d+: the page is free/);
    expect(lines[1]).toMatch(/TLB va/);
    expect(() => device.assertInvariants()).toThrow(/device invariants broken/);
  });

  it('the invariant check sees a TLB entry left by a driver that forgot only the flush', async () => {
    const { ctx, addr, mm, device } = await system(1, 'no-flush');
    await ctx.dmaRead(addr, 1);
    await mm.munmap(addr, PAGE);
    expect(device.checkInvariants()).toEqual([
      expect.stringMatching(/client \d+ TLB va .*the page is free/),
    ]);
  });

  it('within one multi-page DMA the page that went stale is the one reported', async () => {
    const { ctx, addr, mm } = await system(3, 'no-invalidate');
    await ctx.dmaRead(addr, 3 * PAGE);
    await mm.munmap(addr + 2 * PAGE, PAGE);
    const err = await ctx.dmaRead(addr, 3 * PAGE).catch((e) => e);
    expect(err).toBeInstanceOf(StaleTranslationError);
    expect(err.access.va).toBe(addr + 2 * PAGE);
  });

  it('a driver that clears PTEs but forgets the TLB flush: the cached translation is reported', async () => {
    const { ctx, addr, mm } = await system(1, 'no-flush');
    await ctx.dmaRead(addr, 1);
    await mm.munmap(addr, PAGE);
    expect(ctx.entryAt(addr)).toBeUndefined();
    await expect(ctx.dmaRead(addr, 1)).rejects.toBeInstanceOf(StaleTranslationError);
  });

  it('fork write-protects the page: a device write through the old writable entry is reported', async () => {
    const { ctx, addr, mm } = await system(1, 'no-invalidate');
    await ctx.dmaWrite(addr, new Uint8Array([1]));
    await mm.fork();
    const err = await ctx.dmaWrite(addr, new Uint8Array([2])).catch((e) => e);
    expect(err).toBeInstanceOf(StaleTranslationError);
    expect(err.access.reason).toBe('the CPU maps this page read-only');
  });

  it('after a COW break in the parent the device reading the old page is reported', async () => {
    const { ctx, addr, mm } = await system(1, 'no-invalidate');
    await ctx.dmaRead(addr, 1);
    const old = ctx.entryAt(addr)!.pfn;
    await mm.fork();
    await mm.write(addr, new Uint8Array([42]));
    const err = await ctx.dmaRead(addr, 1).catch((e) => e);
    expect(err).toBeInstanceOf(StaleTranslationError);
    expect(err.access.pfn).toBe(old);
    expect(err.access.cpu.kind).toBe('present');
    expect(err.access.cpu.pfn).not.toBe(old);
  });

  it('with a correct driver the same COW sequence reads the new bytes and reports nothing', async () => {
    const { ctx, addr, mm, device } = await system(1);
    await ctx.dmaRead(addr, 1);
    await mm.fork();
    await mm.write(addr, new Uint8Array([42]));
    expect(await ctx.dmaRead(addr, 1)).toEqual(new Uint8Array([42]));
    expect(device.violations).toEqual([]);
  });

  it("'record' mode records the stale access and lets the DMA complete", async () => {
    const { ctx, addr, mm, device } = await system(1, 'no-invalidate', { staleCheck: 'record' });
    await ctx.dmaRead(addr, 1);
    await mm.munmap(addr, PAGE);
    await ctx.dmaRead(addr, 1);
    expect(device.violations.map((v) => v.reason)).toEqual(['the page is free']);
  });

  it("'off' mode does not check", async () => {
    const { ctx, addr, mm, device } = await system(1, 'no-invalidate', { staleCheck: 'off' });
    await ctx.dmaRead(addr, 1);
    await mm.munmap(addr, PAGE);
    await ctx.dmaRead(addr, 1);
    expect(device.violations).toEqual([]);
  });

  it('a context without an mm only checks that the page is not free', async () => {
    const { device, memory } = await system(1);
    const ctx = device.open();
    const pfn = memory.allocPage();
    ctx.map(0x10000, pfn, DEVICE_PTE_READ | DEVICE_PTE_WRITE);
    await ctx.dmaWrite(0x10000, new Uint8Array([3]));
    memory.putPage(pfn);
    await expect(ctx.dmaRead(0x10000, 1)).rejects.toThrow(/the page is free/);
  });
});
