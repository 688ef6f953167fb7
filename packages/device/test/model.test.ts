import {
  assertInvariants,
  MADV_DONTNEED,
  MAP_FIXED,
  Mm,
  PhysicalMemory,
  PROT_READ,
} from '@hmmkit/mm';
import { isKernelError, Prng } from '@hmmkit/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Device } from '../src/index.js';
import { ANON, PAGE, RW } from './helpers.js';
import { MirrorDriver } from './mirror-driver.js';

const PAGES = 4;

/** Runs `f`; its value, or 'EFAULT' when it fails the way an access to a bad address does. */
async function outcome<T>(f: () => Promise<T>): Promise<T | 'EFAULT'> {
  try {
    return await f();
  } catch (e) {
    if (isKernelError(e, 'EFAULT')) return 'EFAULT';
    throw e;
  }
}

/** Runs an mprotect/madvise that may hit a hole (ENOMEM in the kernel too). */
async function syscall(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (!isKernelError(e, 'ENOMEM')) throw e;
  }
}

/**
 * Random CPU address-space changes and device accesses with a correct mirror driver: the
 * device must see exactly what the CPU sees (the CPU is the model), no stale access may be
 * reported, and the mm invariants must hold throughout.
 */
async function runSequence(seed: number): Promise<void> {
  const prng = new Prng(seed);
  const memory = new PhysicalMemory({ pages: 96 });
  const mm = Mm.create(memory);
  const base = await mm.mmap(PAGES * PAGE, RW, ANON);
  const device = new Device(memory);
  const { ctx } = await MirrorDriver.open(device, mm);
  const children: Mm[] = [];
  for (let step = 0; step < 30; step++) {
    const addr = base + prng.nextInt(PAGES) * PAGE + prng.nextInt(PAGE - 1);
    const page = Math.floor(addr / PAGE) * PAGE;
    const byte = new Uint8Array([1 + prng.nextInt(250)]);
    switch (prng.nextInt(8)) {
      case 0:
        await outcome(() => mm.write(addr, byte));
        break;
      case 1:
        expect(await outcome(() => ctx.dmaWrite(addr, byte))).toEqual(
          await outcome(() => mm.write(addr, byte)),
        );
        break;
      case 2:
        await mm.munmap(page, PAGE);
        break;
      case 3:
        await mm.mmap(PAGE, RW, ANON | MAP_FIXED, { addr: page });
        break;
      case 4:
        await syscall(() => mm.mprotect(page, PAGE, prng.nextInt(2) ? PROT_READ : RW));
        break;
      case 5:
        if (children.length < 2) children.push(await mm.fork());
        else await children.shift()!.exit();
        break;
      case 6:
        await syscall(() => mm.madvise(page, PAGE, MADV_DONTNEED));
        break;
      default:
        break;
    }
    const dev = await outcome(() => ctx.dmaRead(addr, 2));
    const cpu = await outcome(() => mm.read(addr, 2));
    expect(dev, `step ${step} at +${addr - base}`).toEqual(cpu);
    device.assertInvariants();
  }
  expect(device.violations).toEqual([]);
  assertInvariants(memory);
}

describe('device against the CPU as a model', () => {
  it('random mmap/munmap/mprotect/fork/madvise/writes: the device reads what the CPU reads (seeded)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), runSequence), {
      seed: 2024,
      numRuns: 25,
    });
  });
});
