import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import { Device, type DeviceOptions } from '../src/index.js';
import { type DriverBug, MirrorDriver } from './mirror-driver.js';

export const PAGE = PAGE_SIZE;
export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Bytes 0..n-1 offset by `seed`, modulo 256. */
export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) & 0xff;
  return b;
}

/** Memory, a process with `pages` written pages at `addr`, a device and a mirror driver. */
export async function system(pages = 4, bug: DriverBug = 'none', opts: DeviceOptions = {}) {
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(pages * PAGE, RW, ANON);
  await mm.write(addr, pattern(pages * PAGE));
  const device = new Device(memory, opts);
  const driver = await MirrorDriver.open(device, mm, bug);
  return { memory, mm, addr, device, driver, ctx: driver.ctx };
}
