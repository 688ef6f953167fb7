import { currentTask, SpinLock, setTraceSink, spawn, type TraceEvent } from '@hmmkit/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, Device } from '../src/index.js';
import { PAGE, system } from './helpers.js';

const RW = DEVICE_PTE_READ | DEVICE_PTE_WRITE;

afterEach(() => setTraceSink(undefined));

describe('device memory, fault delivery, tracing, teardown', () => {
  it('DMA into a device page works while the page is in use and is reported once it is freed', async () => {
    const { memory } = await system(1);
    const device = new Device(memory);
    const vram = device.createPool({ type: 'private', nrPages: 2 });
    const ctx = device.open();
    const pfn = vram.allocPage(ctx);
    memory.unlockPage(pfn);
    ctx.map(0x40000, pfn, RW);
    await ctx.dmaWrite(0x40000, new Uint8Array([1, 2, 3]));
    expect(await ctx.dmaRead(0x40000, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(device.fdinfo(ctx).memory).toEqual({
      system: { total: 0, resident: 0 },
      vram: { total: PAGE, resident: PAGE },
    });
    memory.putPage(pfn);
    await expect(ctx.dmaRead(0x40000, 1)).rejects.toThrow(/the device page is free/);
  });

  it('memory accounting follows map, remap and unmap', async () => {
    const { memory } = await system(1);
    const device = new Device(memory);
    const vram = device.createPool({ type: 'coherent', nrPages: 1 });
    const ctx = device.open();
    const ram = memory.allocPage();
    ctx.map(0, ram, RW);
    ctx.map(PAGE, ram, RW);
    expect(ctx.residentBytes).toEqual({ system: 2 * PAGE, vram: 0 });
    ctx.map(PAGE, vram.allocPage(), RW);
    expect(ctx.residentBytes).toEqual({ system: PAGE, vram: PAGE });
    expect(ctx.unmap(0, 2 * PAGE)).toBe(2);
    expect(ctx.residentBytes).toEqual({ system: 0, vram: 0 });
  });

  it('two accesses to one missing page raise one fault: the second waits on the first', async () => {
    const { ctx, addr, device } = await system(1);
    const a = spawn('dma-a', () => ctx.dmaRead(addr, 1));
    const b = spawn('dma-b', () => ctx.dmaRead(addr, 1));
    await a.join();
    await b.join();
    expect(device.faultsDelivered).toBe(1);
    expect(ctx.faults).toBe(2);
  });

  it('the handler runs in the device fault task, not in the task that did the access', async () => {
    const { ctx, addr, device, driver } = await system(1);
    const tasks: string[] = [];
    device.setFaultHandler(async (f) => {
      tasks.push(currentTask().name);
      await driver.fault(f);
    });
    await ctx.dmaRead(addr, 1);
    expect(tasks).toEqual([`${device.name}-fault`]);
  });

  it('a DMA under a spinlock is a might_sleep violation', async () => {
    const { ctx, addr } = await system(1);
    const lock = new SpinLock('holder');
    lock.lock();
    await expect(ctx.dmaRead(addr, 1)).rejects.toMatchObject({ kind: 'sleep-in-atomic' });
    lock.unlock();
  });

  it('faults, TLB flushes, job starts and fence signals are traced', async () => {
    const events: TraceEvent[] = [];
    setTraceSink((e) => events.push(e));
    const { ctx, addr, mm, device } = await system(1);
    await ctx.dmaRead(addr, 1);
    await mm.munmap(addr, PAGE);
    await ctx.createQueue('gfx').submit({ durationNs: 5 }).wait();
    const names = events.filter((e) => e.kind === 'device').map((e) => e.name);
    expect(names).toEqual(['fault', 'tlb-flush', 'job-start', 'fence-signal']);
    expect(events.find((e) => e.name === 'fault')?.args).toMatchObject({
      va: addr,
      access: 'read',
    });
    expect(device.now).toBe(5);
  });

  it('after the process exits the release pass empties the device page table; DMA then fails with EFAULT', async () => {
    const { ctx, addr, mm, device } = await system(2);
    await ctx.dmaRead(addr, 2 * PAGE);
    await mm.exit();
    expect(ctx.mappedPages).toBe(0);
    await expect(ctx.dmaRead(addr, 1)).rejects.toThrow(/EFAULT|unrecoverable/);
    expect(device.violations).toEqual([]);
  });
});

describe('fault handler contract', () => {
  it('a fault handler that waits on a fence of its own device is reported as a deadlock, not hung', async () => {
    const { ctx, addr, mm, device, driver } = await system(1);
    await mm.munmap(addr, PAGE);
    const fresh = await mm.mmap(PAGE, 3, 0x22);
    device.setFaultHandler(async (f) => {
      await ctx.createQueue('gfx').submit({ durationNs: 1 }).wait();
      await driver.fault(f);
    });
    const job = ctx.createQueue('copy').submit({
      durationNs: 10,
      ops: [{ op: 'write', va: fresh, data: new Uint8Array(1) }],
    });
    const err = await job.wait().catch((e) => e);
    expect(err).toMatchObject({ name: 'RuntimeViolation', kind: 'deadlock' });
    expect(String(err)).toMatch(/mutex hmmkit scheduler held by main/);
  });
});
