import { type Dmirror, DmirrorDevice } from '@hmmkit/adapter-dmirror';
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import { resetRuntime } from '@hmmkit/runtime';
import { expect } from 'vitest';

export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
export const SHARED_ANON = MAP_SHARED | MAP_ANONYMOUS;
export { PAGE_SIZE };

/** `n` bytes where byte i of word-sized slot k holds the k-th int, as hmm-tests fills buffers. */
export function ints(npages: number, seed = 0): Uint8Array {
  const out = new Uint8Array(npages * PAGE_SIZE);
  const view = new DataView(out.buffer);
  for (let i = 0; i < out.length / 4; i++) view.setInt32(i * 4, i + seed, true);
  return out;
}

/** The i-th int of a buffer filled by ints(). */
export function intAt(buf: Uint8Array, i: number): number {
  return new DataView(buf.buffer, buf.byteOffset).getInt32(i * 4, true);
}

/** A machine with RAM, one process and the four dmirror devices. */
export async function system(opts: { pages?: number; devicePages?: number } = {}) {
  resetRuntime();
  const memory = new PhysicalMemory({ pages: opts.pages ?? 2048 });
  const mm = Mm.create(memory);
  const devices = DmirrorDevice.createAll(memory, opts.devicePages ?? 256);
  const fd = await devices[0]!.open(mm);
  return { memory, mm, devices, fd };
}

/** Opens `dev` from `mm`. */
export function open(dev: DmirrorDevice, mm: Mm): Promise<Dmirror> {
  return dev.open(mm);
}

/**
 * The invariant checks every test ends with: mm metadata, no stale device access so far,
 * and every device page-table and TLB translation of every open file consistent with the
 * CPU page table now.
 */
export function checkAll(memory: PhysicalMemory, devices: DmirrorDevice[]): void {
  assertInvariants(memory);
  for (const d of devices) {
    expect(d.hw.violations).toEqual([]);
    expect(d.hw.checkInvariants()).toEqual([]);
  }
}

/** Number of pages of [addr, addr + npages pages) the file's device page table maps. */
export function mappedIn(fd: Dmirror, addr: number, npages: number): number {
  let n = 0;
  for (let i = 0; i < npages; i++) if (fd.ctx.entryAt(addr + i * PAGE_SIZE)) n++;
  return n;
}

/** Byte equality without vitest's per-element diff (slow on large buffers); names the first difference. */
export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  const a = actual as Uint8Array;
  expect(a.length).toBe(expected.length);
  let i = 0;
  while (i < a.length && a[i] === expected[i]) i++;
  expect(i === a.length ? 'equal' : `differ at byte ${i}: ${a[i]} != ${expected[i]}`).toBe('equal');
}
