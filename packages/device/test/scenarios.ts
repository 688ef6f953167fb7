/** Race scenarios shared by the interleaving tests and the longer `pnpm explore` run. */
import { MAP_ANONYMOUS, MAP_PRIVATE, Mm, PAGE_SIZE, PhysicalMemory } from '@hmmkit/mm';
import { isKernelError, spawn } from '@hmmkit/runtime';
import { Device } from '../src/index.js';
import { type DriverBug, MirrorDriver } from './mirror-driver.js';

/**
 * CPU munmap racing a device DMA over two pages that the device already mirrors. The DMA
 * must return the bytes the process wrote or fail with EFAULT (the range is gone); a stale
 * translation fails the schedule.
 */
export function munmapVsDma(bug: DriverBug) {
  return async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const addr = await mm.mmap(2 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(addr, new Uint8Array(2 * PAGE_SIZE).fill(7));
    const device = new Device(memory);
    const { ctx } = await MirrorDriver.open(device, mm, bug);
    await ctx.dmaRead(addr, PAGE_SIZE);
    const cpu = spawn('cpu', () => mm.munmap(addr, 2 * PAGE_SIZE));
    const gpu = spawn('gpu', async () => {
      try {
        const data = await ctx.dmaRead(addr, 2 * PAGE_SIZE);
        if (data.some((b) => b !== 7)) throw new Error('device read bytes the process never wrote');
      } catch (e) {
        if (!isKernelError(e, 'EFAULT')) throw e;
      }
    });
    await cpu.join();
    await gpu.join();
    if (device.violations.length > 0) throw new Error('stale device translation recorded');
  };
}

/** fork + a parent write (COW break) racing a device write through a mirrored page. */
export function cowVsDma(bug: DriverBug) {
  return async () => {
    const memory = new PhysicalMemory({ pages: 16 });
    const mm = Mm.create(memory);
    const addr = await mm.mmap(PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(addr, new Uint8Array([1]));
    const device = new Device(memory);
    const { ctx } = await MirrorDriver.open(device, mm, bug);
    await ctx.dmaWrite(addr, new Uint8Array([2]));
    const cpu = spawn('cpu', async () => {
      const child = await mm.fork();
      await mm.write(addr + 1, new Uint8Array([3]));
      const seen = (await child.read(addr, 1))[0];
      if (seen !== 2 && seen !== 4) throw new Error(`child sees ${seen}`);
    });
    const gpu = spawn('gpu', () => ctx.dmaWrite(addr, new Uint8Array([4])));
    await cpu.join();
    await gpu.join();
    if (device.violations.length > 0) throw new Error('stale device translation recorded');
  };
}
