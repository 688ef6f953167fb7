/** default_flags / pfn_flags_mask idioms of Documentation/mm/hmm.rst and the pfn layout. */

import {
  HMM_PFN_DMA_MAPPED,
  HMM_PFN_ERROR,
  HMM_PFN_FLAGS_SHIFT,
  HMM_PFN_P2PDMA,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  hmmPfnGet,
  hmmPfnSet,
  hmmPfnToMapOrder,
  hmmPfnToPage,
  hmmPfnToPhys,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import { Mutex } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeFault, rangeOf } from './helpers.js';

const RW_OUT = HMM_PFN_VALID | HMM_PFN_WRITE;

async function fresh(pages: number, prot = RW) {
  const { memory, mm } = machine();
  const addr = await mm.mmap(pages * PAGE, prot, ANON);
  const sub = await mirror(mm, addr, pages * PAGE);
  return { memory, mm, addr, sub };
}

describe('request = (input & pfnFlagsMask) | defaultFlags', () => {
  it('defaultFlags = REQ_FAULT, mask = 0 faults the whole range readable, ignoring inputs', async () => {
    const { mm, addr, sub } = await fresh(4);
    const r = await rangeFault(mm, sub, addr, addr + 4 * PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT,
      input: { 2: HMM_PFN_REQ_WRITE },
    });
    expect([...r.hmmPfns.flags]).toEqual([1, 1, 1, 1].map(() => HMM_PFN_VALID));
  });

  it('mask = REQ_WRITE with one page asking REQ_WRITE makes that page writable too', async () => {
    const { mm, addr, sub } = await fresh(4);
    // Read-only PTEs of pages this process owns alone: the write fault reuses them
    // without a notifier, so one call shows the result.
    await mm.write(addr, new Uint8Array(4 * PAGE).fill(1));
    await (await mm.fork()).exit();
    const r = await rangeFault(mm, sub, addr, addr + 4 * PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT,
      pfnFlagsMask: HMM_PFN_REQ_WRITE,
      input: { 1: HMM_PFN_REQ_WRITE },
    });
    expect(r.hmmPfns.flags[0]).toBe(HMM_PFN_VALID);
    expect(r.hmmPfns.flags[1]).toBe(RW_OUT);
  });

  it('the driver loop with the per-page write idiom ends with the page writable', async () => {
    const { mm, addr, sub } = await fresh(4);
    await mm.read(addr, 4 * PAGE); // zero pages: the write fault is a COW that invalidates
    const range = rangeOf(sub, addr, addr + 4 * PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT,
      pfnFlagsMask: HMM_PFN_REQ_WRITE,
      input: { 1: HMM_PFN_REQ_WRITE },
    });
    let programmed: number[] = [];
    const attempts = await hmmRangeFaultLoop(range, {
      lock: new Mutex('driver'),
      program: (r) => {
        programmed = [...r.hmmPfns.flags];
      },
    });
    expect(attempts).toBeGreaterThan(1);
    expect(programmed[0]).toBe(HMM_PFN_VALID);
    expect(programmed[1]).toBe(RW_OUT);
  });

  it('mask = all bits, default = 0 takes each page`s own request (per-page mode)', async () => {
    const { mm, addr, sub } = await fresh(3);
    await mm.write(addr + 2 * PAGE, new Uint8Array([1])); // a PTE table, so no hole spans it
    const r = await rangeFault(mm, sub, addr, addr + 3 * PAGE, {
      pfnFlagsMask: 0x7ff,
      input: { 1: HMM_PFN_REQ_FAULT },
    });
    expect(r.hmmPfns.flags[0]).toBe(0);
    expect(r.hmmPfns.flags[1]).toBe(HMM_PFN_VALID);
  });

  it('a hole is faulted as a whole when any page of it asks', async () => {
    const { mm, addr, sub } = await fresh(3);
    const r = await rangeFault(mm, sub, addr, addr + 3 * PAGE, {
      pfnFlagsMask: 0x7ff,
      input: { 1: HMM_PFN_REQ_FAULT },
    });
    expect([...r.hmmPfns.flags]).toEqual([HMM_PFN_VALID, HMM_PFN_VALID, HMM_PFN_VALID]);
  });

  it('with default = 0 and mask = 0 per-page requests are ignored: a snapshot', async () => {
    const { mm, addr, sub } = await fresh(2);
    const r = await rangeFault(mm, sub, addr, addr + 2 * PAGE, {
      input: { 0: HMM_PFN_REQ_FAULT, 1: HMM_PFN_REQ_FAULT },
    });
    expect([...r.hmmPfns.flags]).toEqual([0, 0]);
    expect(mm.pt.pteSlot(addr, false)).toBeLessThan(0);
  });

  it('a fault request faults the rest of the sub-range too, as hmm_vma_fault() does', async () => {
    const { mm, addr, sub } = await fresh(4);
    await mm.write(addr + 3 * PAGE, new Uint8Array([1]));
    await rangeFault(mm, sub, addr, addr + 4 * PAGE, {
      pfnFlagsMask: HMM_PFN_REQ_FAULT,
      input: { 1: HMM_PFN_REQ_FAULT },
    });
    const slot = mm.pt.pteSlot(addr, false);
    expect(mm.pt.bits[slot]).toBe(0); // before the requested page: untouched
    expect(mm.pt.bits[slot + 2]).not.toBe(0); // after it: faulted with it, unasked
  });
});

describe('sticky bits and the 64-bit layout', () => {
  it('DMA_MAPPED and P2PDMA survive from input to output on valid, none and error entries', async () => {
    const { mm, addr, sub } = await fresh(2);
    await mm.write(addr, new Uint8Array([1]));
    await mm.munmap(addr + PAGE, PAGE);
    const r = await rangeFault(mm, sub, addr, addr + 3 * PAGE, {
      input: { 0: HMM_PFN_DMA_MAPPED, 1: HMM_PFN_P2PDMA, 2: HMM_PFN_DMA_MAPPED | HMM_PFN_WRITE },
    });
    expect(r.hmmPfns.flags[0]).toBe(HMM_PFN_DMA_MAPPED | RW_OUT);
    expect(r.hmmPfns.flags[1]).toBe(HMM_PFN_P2PDMA | HMM_PFN_ERROR);
    expect(r.hmmPfns.flags[2]).toBe(HMM_PFN_DMA_MAPPED | HMM_PFN_ERROR);
  });

  it('hmmPfnGet returns the kernel`s exact u64: VALID is bit 63, WRITE 62, order at 53', () => {
    const pfns = new HmmPfns(1);
    pfns.pfn[0] = 2 ** 52 + 5;
    pfns.flags[0] = HMM_PFN_VALID | HMM_PFN_WRITE | 9;
    expect(hmmPfnGet(pfns, 0)).toBe((1n << 63n) | (1n << 62n) | (9n << 53n) | (2n ** 52n + 5n));
    expect(HMM_PFN_VALID).toBe(1 << (63 - HMM_PFN_FLAGS_SHIFT));
    expect(hmmPfnToPage(pfns, 0)).toBe(2 ** 52 + 5);
    expect(hmmPfnToMapOrder(pfns, 0)).toBe(9);
  });

  it('hmmPfnSet and hmmPfnGet round-trip any u64', () => {
    const pfns = new HmmPfns(4);
    for (const v of [0n, (1n << 64n) - 1n, (1n << 61n) | 12345n, (18n << 53n) | 1n]) {
      hmmPfnSet(pfns, 1, v);
      expect(hmmPfnGet(pfns, 1)).toBe(v);
    }
    hmmPfnSet(pfns, 2, (1n << 63n) | 3n);
    expect(hmmPfnToPhys(pfns, 2)).toBe(3 * 4096);
  });

  it('rejects bad indexes and values with EINVAL', () => {
    const pfns = new HmmPfns(1);
    expect(() => hmmPfnGet(pfns, 1)).toThrow(/index/);
    expect(() => hmmPfnToPage(pfns, -1)).toThrow(/index/);
    expect(() => hmmPfnSet(pfns, 0, 1n << 64n)).toThrow(/u64/);
    expect(() => hmmPfnSet(pfns, 0, -1n)).toThrow(/u64/);
    expect(() => new HmmPfns(-1)).toThrow(/npages/);
  });
});
