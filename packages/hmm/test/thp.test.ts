/** Transparent huge pages (mm's PMD-mapped THP) through hmmRangeFault and migrate_vma. */

import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  hmmPfnToMapOrder,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import {
  assertInvariants,
  changeProtNuma,
  MADV_HUGEPAGE,
  type Mm,
  PMD_SIZE,
  PteKind,
  pteKind,
} from '@hmmkit/mm';
import { Mutex } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeFault, rangeOf } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

/** A VM_HUGEPAGE anon mapping with one 2 MiB-aligned span `h` inside it. */
async function hugeWorld() {
  const { memory, mm } = machine(4096);
  const addr = await mm.mmap(2 * PMD_SIZE, RW, ANON);
  await mm.madvise(addr, 2 * PMD_SIZE, MADV_HUGEPAGE);
  const h = Math.ceil(addr / PMD_SIZE) * PMD_SIZE;
  const sub = await mirror(mm, h, PMD_SIZE);
  return { memory, mm, h, sub };
}

function isHuge(mm: Mm, addr: number): boolean {
  return mm.pt.pteSlot(addr, false) === -2;
}

describe('transparent huge PMDs', () => {
  it('a snapshot reports every page VALID | WRITE with map order 9 and consecutive pfns', async () => {
    const { mm, h, sub } = await hugeWorld();
    await mm.write(h, new Uint8Array([1]));
    expect(isHuge(mm, h)).toBe(true);
    const r = await rangeFault(mm, sub, h + 100 * PAGE, h + 104 * PAGE);
    const head = mm.pt.pfn[mm.pt.pmdSlot(h, false)]!;
    for (let i = 0; i < 4; i++) {
      expect(r.hmmPfns.flags[i]! & ~31).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
      expect(hmmPfnToMapOrder(r.hmmPfns, i)).toBe(9);
      expect(r.hmmPfns.pfn[i]).toBe(head + 100 + i);
    }
  });

  it('a fault request on an empty VM_HUGEPAGE span faults a huge page in and reports order 9', async () => {
    const { mm, h, sub } = await hugeWorld();
    const r = await rangeFault(mm, sub, h, h + 8 * PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
    });
    expect(isHuge(mm, h)).toBe(true);
    expect(hmmPfnToMapOrder(r.hmmPfns, 7)).toBe(9);
    expect(r.hmmPfns.flags[7]! & HMM_PFN_WRITE).toBe(HMM_PFN_WRITE);
  });

  it('a NUMA-hinted huge PMD reports no flags and no order, and a fault request resolves it', async () => {
    const { mm, h, sub } = await hugeWorld();
    await mm.write(h, new Uint8Array([1]));
    await changeProtNuma(mm, h, PMD_SIZE);
    const snap = await rangeFault(mm, sub, h, h + PAGE);
    expect(snap.hmmPfns.flags[0]).toBe(0);
    const r = await rangeFault(mm, sub, h, h + PAGE, { defaultFlags: HMM_PFN_REQ_FAULT });
    expect(r.hmmPfns.flags[0]! & HMM_PFN_VALID).toBe(HMM_PFN_VALID);
    expect(hmmPfnToMapOrder(r.hmmPfns, 0)).toBe(9);
  });

  it('a write request on a huge PMD write-protected by fork is resolved by mm and retried', async () => {
    const { mm, h, sub } = await hugeWorld();
    await mm.write(h, new Uint8Array([5]));
    const child = await mm.fork();
    const range = rangeOf(sub, h, h + PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
    });
    let programmed = 0;
    // The split of the shared huge PMD and the COW break each invalidate the range, so the
    // loop needs several attempts, as a driver does.
    const attempts = await hmmRangeFaultLoop(range, {
      lock: new Mutex('driver'),
      program: (r) => {
        programmed = r.hmmPfns.flags[0]!;
      },
    });
    expect(attempts).toBeGreaterThan(1);
    expect(programmed & (HMM_PFN_VALID | HMM_PFN_WRITE)).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect((await child.read(h, 1))[0]).toBe(5);
    expect((await mm.read(h, 1))[0]).toBe(5);
  });

  it('migrate_vma splits a huge PMD and moves only the pages asked for', async () => {
    const { memory, mm, h } = await hugeWorld();
    const data = new Uint8Array(4 * PAGE).map((_, i) => i & 0xff);
    await mm.write(h, data);
    const dev = new TinyDevice(memory, 8);
    const mig = await dev.migrateToDevice(mm, h + PAGE, 2);
    expect(mig.cpages).toBe(2);
    expect(isHuge(mm, h)).toBe(false);
    const kind = (a: number) => pteKind(mm.pt.bits[mm.pt.pteSlot(a, false)]!);
    expect(kind(h)).toBe(PteKind.PRESENT);
    expect(kind(h + PAGE)).toBe(PteKind.DEVICE_PRIVATE);
    expect(kind(h + 3 * PAGE)).toBe(PteKind.PRESENT);
    assertInvariants(memory);
    expect(await mm.read(h, 4 * PAGE)).toEqual(data);
    assertInvariants(memory);
  });
});
