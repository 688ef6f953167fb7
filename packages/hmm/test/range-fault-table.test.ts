/**
 * Every row of the hmm_range_fault() case table (kernel-semantics.md §2.4), each with no
 * fault requested (snapshot) and with a fault requested.
 */

import {
  HMM_PFN_ERROR,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  hmmPfnToMapOrder,
} from '@hmmkit/hmm';
import {
  changeProtNuma,
  MAP_FIXED,
  MAP_HUGETLB,
  MAP_SHARED,
  Mm,
  migratePage,
  PG_LOCKED,
  PhysicalMemory,
  PMD_SIZE,
  PROT_NONE,
  PROT_READ,
  PTE_HUGE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  PteKind,
  reclaimPage,
  remapPfnRange,
  restoreExclusivePteLocked,
  setPteAt,
  swpBits,
  VM_IO,
  VM_PFNMAP,
  ZERO_PFN,
} from '@hmmkit/mm';
import type { MmuIntervalNotifier } from '@hmmkit/mmu-notifier';
import { schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeFault, withPtl, withWriteLock } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

const FAULT = { defaultFlags: HMM_PFN_REQ_FAULT };
const WRITE_FAULT = { defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE };

interface World {
  memory: PhysicalMemory;
  mm: Mm;
  sub: MmuIntervalNotifier;
  addr: number;
}

/** A process with `pages` anon RW pages mapped at `addr`, mirrored by one notifier. */
async function world(pages = 4, prot = RW, flags = ANON): Promise<World> {
  const { memory, mm } = machine();
  const addr = await mm.mmap(pages * PAGE, prot, flags);
  const sub = await mirror(mm, addr, pages * PAGE);
  return { memory, mm, sub, addr };
}

function out(r: { hmmPfns: { pfn: Float64Array; flags: Uint16Array } }, i = 0) {
  return { pfn: r.hmmPfns.pfn[i]!, flags: r.hmmPfns.flags[i]! };
}

function bitsAt(mm: Mm, addr: number): number {
  const slot = mm.pt.pteSlot(addr, false);
  return slot < 0 ? 0 : mm.pt.bits[slot]!;
}

function pfnAt(mm: Mm, addr: number): number {
  return mm.pt.pfn[mm.pt.pteSlot(addr, false)]!;
}

/** Replaces the mapping by a driver mapping with `vmFlags` (a device file's mmap). */
async function driverMapping(w: World, vmFlags: number): Promise<void> {
  await w.mm.mmap(2 * PAGE, RW, ANON | MAP_FIXED, { addr: w.addr, vmFlags });
  if (vmFlags & VM_PFNMAP) {
    const frame = w.memory.allocPage();
    await w.mm.mmapLock.downRead();
    remapPfnRange(w.mm, w.addr, frame, 1); // special PTEs, as remap_pfn_range() makes
    w.mm.mmapLock.upRead();
  }
}

describe('hole: no VMA covers the address', () => {
  it('a snapshot reports HMM_PFN_ERROR', async () => {
    const w = await world(2);
    await w.mm.munmap(w.addr + PAGE, PAGE);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
    expect(out(r, 0)).toEqual({ pfn: 0, flags: 0 });
    expect(out(r, 1)).toEqual({ pfn: 0, flags: HMM_PFN_ERROR });
  });

  it('a fault request fails with EFAULT', async () => {
    const w = await world(2);
    await w.mm.munmap(w.addr + PAGE, PAGE);
    await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE, FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });
});

describe('VMAs hmm cannot mirror: VM_IO, VM_PFNMAP, no VM_READ', () => {
  for (const [name, setup] of [
    ['VM_IO', (w: World) => driverMapping(w, VM_IO)],
    ['VM_PFNMAP', (w: World) => driverMapping(w, VM_PFNMAP)],
    ['PROT_NONE', (w: World) => w.mm.mprotect(w.addr, 2 * PAGE, PROT_NONE)],
  ] as const) {
    it(`a snapshot of a ${name} VMA reports HMM_PFN_ERROR for every page`, async () => {
      const w = await world(2);
      await w.mm.write(w.addr, new Uint8Array([1]));
      await setup(w);
      const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
      expect([out(r, 0), out(r, 1)]).toEqual([
        { pfn: 0, flags: HMM_PFN_ERROR },
        { pfn: 0, flags: HMM_PFN_ERROR },
      ]);
    });

    it(`a fault request on a ${name} VMA fails with EFAULT`, async () => {
      const w = await world(2);
      await setup(w);
      await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE, FAULT)).rejects.toMatchObject(
        { code: 'EFAULT' },
      );
    });
  }

  it('the VMA is skipped and the walk goes on into the next VMA', async () => {
    const w = await world(2);
    await w.mm.write(w.addr + PAGE, new Uint8Array([1]));
    await w.mm.mprotect(w.addr, PAGE, PROT_NONE);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
    expect(out(r, 0).flags).toBe(HMM_PFN_ERROR);
    expect(out(r, 1).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
  });
});

describe('write request on a read-only VMA', () => {
  it('fails with EPERM before any fault', async () => {
    const w = await world(2, PROT_READ);
    await expect(
      rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE, WRITE_FAULT),
    ).rejects.toMatchObject({ code: 'EPERM' });
    expect(bitsAt(w.mm, w.addr)).toBe(0);
  });

  it('REQ_WRITE without REQ_FAULT asks for nothing, as hmm_pte_need_fault() reads it', async () => {
    const w = await world(1, PROT_READ);
    await w.mm.read(w.addr, 1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, {
      defaultFlags: HMM_PFN_REQ_WRITE,
    });
    expect(out(r)).toEqual({ pfn: ZERO_PFN, flags: HMM_PFN_VALID });
  });
});

describe('pte_none', () => {
  it('a snapshot reports 0', async () => {
    const w = await world(1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
  });

  it('a read fault maps the zero page and reports it VALID', async () => {
    const w = await world(1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    expect(out(r)).toEqual({ pfn: ZERO_PFN, flags: HMM_PFN_VALID });
  });

  it('a write fault maps a new page and reports it VALID | WRITE', async () => {
    const w = await world(1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, WRITE_FAULT);
    expect(out(r).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect(out(r).pfn).toBe(pfnAt(w.mm, w.addr));
    expect(out(r).pfn).not.toBe(ZERO_PFN);
  });

  it('absent page tables over a large range read as none and fault in every page', async () => {
    const w = await world(1024);
    const snap = await rangeFault(w.mm, w.sub, w.addr, w.addr + 1024 * PAGE);
    expect(snap.hmmPfns.flags.every((f) => f === 0)).toBe(true);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 1024 * PAGE, WRITE_FAULT);
    expect(r.hmmPfns.flags.every((f) => f === (HMM_PFN_VALID | HMM_PFN_WRITE))).toBe(true);
    expect(new Set(r.hmmPfns.pfn).size).toBe(1024);
  });
});

describe('present PTE: normal page and zero page', () => {
  it('a snapshot reports pfn, VALID and WRITE of a writable page', async () => {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([7]));
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: pfnAt(w.mm, w.addr), flags: HMM_PFN_VALID | HMM_PFN_WRITE });
  });

  it('a snapshot reports the zero page VALID without WRITE', async () => {
    const w = await world(1);
    await w.mm.read(w.addr, 1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: ZERO_PFN, flags: HMM_PFN_VALID });
  });

  it('a write request on the zero page faults a private copy in', async () => {
    const w = await world(1);
    await w.mm.read(w.addr, 1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, WRITE_FAULT).catch((e) => e);
    // wp_page_copy() sends MMU_NOTIFY_CLEAR over the page: the sequence moved under us.
    expect(r).toMatchObject({ code: 'EBUSY' });
    const again = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, WRITE_FAULT);
    expect(out(again).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect(out(again).pfn).not.toBe(ZERO_PFN);
  });

  it('a read request on a present page needs no fault', async () => {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([7]));
    const before = bitsAt(w.mm, w.addr);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, WRITE_FAULT);
    expect(out(r).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect(bitsAt(w.mm, w.addr)).toBe(before);
  });
});

describe('special PTE (no struct page, not the zero page)', () => {
  async function special(): Promise<World> {
    const w = await world(1);
    const frame = w.memory.allocPage();
    await withWriteLock(w.mm, () =>
      withPtl(w.mm, () => setPteAt(w.mm, w.addr, frame, PTE_PRESENT | PTE_SPECIAL)),
    );
    return w;
  }

  it('a snapshot reports HMM_PFN_ERROR', async () => {
    const w = await special();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: HMM_PFN_ERROR });
  });

  it('a fault request fails with EFAULT', async () => {
    const w = await special();
    await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });
});

describe('protnone (NUMA hint) PTE in a readable VMA', () => {
  async function numaHinted(): Promise<World> {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([3]));
    await changeProtNuma(w.mm, w.addr, PAGE); // task_numa_work's change_prot_numa()
    expect(bitsAt(w.mm, w.addr) & PTE_PROTNONE).toBe(PTE_PROTNONE);
    return w;
  }

  it('a snapshot reports the pfn without VALID', async () => {
    const w = await numaHinted();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: pfnAt(w.mm, w.addr), flags: 0 });
  });

  it('a fault request resolves the hint and reports VALID', async () => {
    const w = await numaHinted();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    expect(out(r).flags & HMM_PFN_VALID).toBe(HMM_PFN_VALID);
    expect(bitsAt(w.mm, w.addr) & PTE_PROTNONE).toBe(0);
  });
});

describe('swap entry', () => {
  async function swapped(): Promise<World> {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([42]));
    expect(await reclaimPage(w.memory, pfnAt(w.mm, w.addr))).toBe(true);
    expect(bitsAt(w.mm, w.addr) & PTE_PRESENT).toBe(0);
    return w;
  }

  it('a snapshot reports 0', async () => {
    const w = await swapped();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
  });

  it('a fault request swaps the page in with its data', async () => {
    const w = await swapped();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    expect(out(r).flags & HMM_PFN_VALID).toBe(HMM_PFN_VALID);
    const data = new Uint8Array(1);
    w.memory.readPage(out(r).pfn, 0, data, 0, 1);
    expect(data[0]).toBe(42);
  });
});

describe('device-private entry', () => {
  async function onDevice(): Promise<World & { dev: TinyDevice }> {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([9]));
    const dev = new TinyDevice(w.memory, 4);
    const mig = await dev.migrateToDevice(w.mm, w.addr, 1);
    expect(mig.cpages).toBe(1);
    return { ...w, dev };
  }

  it('of the caller`s owner is reported VALID | WRITE with the device pfn (snapshot)', async () => {
    const w = await onDevice();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, { owner: w.dev.owner });
    expect(out(r)).toEqual({ pfn: pfnAt(w.mm, w.addr), flags: HMM_PFN_VALID | HMM_PFN_WRITE });
    expect(w.memory.pagemapOf(out(r).pfn)?.owner).toBe(w.dev.owner);
  });

  it('of the caller`s owner is never faulted, even when a fault is requested', async () => {
    const w = await onDevice();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, {
      ...WRITE_FAULT,
      owner: w.dev.owner,
    });
    expect(out(r).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect(w.dev.faults).toBe(0);
    expect(pteKindAt(w.mm, w.addr)).toBe(PteKind.DEVICE_PRIVATE);
  });

  it('of another owner is reported 0 by a snapshot', async () => {
    const w = await onDevice();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, { owner: { other: true } });
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
    expect(w.dev.faults).toBe(0);
  });

  it('of another owner is faulted back to RAM through migrateToRam, data intact', async () => {
    const w = await onDevice();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, { ...FAULT, owner: {} }).catch(
      (e) => e,
    );
    // The migration back sends MMU_NOTIFY_MIGRATE over the page: the sequence moved.
    expect(r).toMatchObject({ code: 'EBUSY' });
    expect(w.dev.faults).toBe(1);
    const again = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    expect(w.memory.pagemapOf(out(again).pfn)).toBeUndefined();
    expect(out(again).flags).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
    expect((await w.mm.read(w.addr, 1))[0]).toBe(9);
  });
});

describe('device-exclusive entry', () => {
  async function exclusive(): Promise<World> {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([5]));
    const pfn = pfnAt(w.mm, w.addr);
    w.memory.deviceExclusiveOps = {
      restoreExclusive(vmf) {
        withPtl(vmf.mm, () => restoreExclusivePteLocked(vmf.mm, vmf.address));
        return 0;
      },
    };
    await withWriteLock(w.mm, () =>
      withPtl(w.mm, () => setPteAt(w.mm, w.addr, pfn, swpBits(PteKind.DEVICE_EXCLUSIVE, false))),
    );
    return w;
  }

  it('a snapshot reports 0', async () => {
    const w = await exclusive();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
  });

  it('a fault request restores the PTE and reports the page', async () => {
    const w = await exclusive();
    const pfn = pfnAt(w.mm, w.addr);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    expect(out(r)).toEqual({ pfn, flags: HMM_PFN_VALID | HMM_PFN_WRITE });
    expect(bitsAt(w.mm, w.addr) & PTE_PRESENT).toBe(PTE_PRESENT);
  });
});

describe('migration entry', () => {
  /** Starts mm's migratePage() on the page and returns once its migration entry is in place. */
  async function migrating(w: World) {
    const pfn = pfnAt(w.mm, w.addr);
    const task = spawn('migrate', () => migratePage(w.memory, pfn));
    while (pteKindAt(w.mm, w.addr) !== PteKind.MIGRATION) await schedulePoint();
    expect(w.memory.flags[pfn]! & PG_LOCKED).toBe(PG_LOCKED);
    return { pfn, task };
  }

  it('a snapshot reports 0', async () => {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([1]));
    const { task } = await migrating(w);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
    await task.join();
  });

  it('a fault request waits for the migration and reports the new page', async () => {
    const w = await world(1);
    await w.mm.write(w.addr, new Uint8Array([1]));
    const { pfn, task } = await migrating(w);
    // The walk sleeps in migration_entry_wait; the migration ends without a notifier
    // (migration entry to present PTE), so the internal restart reports the new page.
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    const moved = await task.join();
    expect(moved).not.toBe(pfn);
    expect(out(r)).toEqual({ pfn: moved, flags: HMM_PFN_VALID | HMM_PFN_WRITE });
  });
});

function pteKindAt(mm: Mm, addr: number): number {
  const b = bitsAt(mm, addr);
  return b === 0 ? PteKind.NONE : b & PTE_PRESENT ? PteKind.PRESENT : (b >> 8) & 7;
}

describe('any other non-present entry (hwpoison, markers)', () => {
  async function poisoned(): Promise<World> {
    const w = await world(1);
    await withWriteLock(w.mm, () =>
      withPtl(w.mm, () => setPteAt(w.mm, w.addr, 0, swpBits(6 as PteKind, false))),
    );
    return w;
  }

  it('a snapshot reports 0', async () => {
    const w = await poisoned();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 0, flags: 0 });
  });

  it('a fault request fails with EFAULT', async () => {
    const w = await poisoned();
    await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });
});

describe('PMD level', () => {
  /** A 2 MiB-aligned address inside a fresh 4 MiB anon mapping, with its own notifier. */
  async function aligned(): Promise<World> {
    const w = await world(1024);
    const a = Math.ceil(w.addr / (512 * PAGE)) * 512 * PAGE;
    return { ...w, addr: a };
  }

  function setPmd(w: World, bits: number, pfn: number): void {
    withPtl(w.mm, () => {
      const slot = w.mm.pt.pmdSlot(w.addr, true);
      w.mm.pt.bits[slot] = bits;
      w.mm.pt.pfn[slot] = pfn;
    });
  }

  it('a transparent huge PMD reports VALID | WRITE with order 9 on every page (snapshot)', async () => {
    const w = await aligned();
    setPmd(w, PTE_PRESENT | PTE_HUGE | PTE_WRITE, 4096);
    const r = await rangeFault(w.mm, w.sub, w.addr + 510 * PAGE, w.addr + 512 * PAGE);
    expect(out(r, 0)).toEqual({ pfn: 4096 + 510, flags: HMM_PFN_VALID | HMM_PFN_WRITE | 9 });
    expect(hmmPfnToMapOrder(r.hmmPfns, 1)).toBe(9);
    expect(out(r, 1).pfn).toBe(4096 + 511);
  });

  it('a transparent huge PMD that satisfies the request is reported without a fault', async () => {
    const w = await aligned();
    setPmd(w, PTE_PRESENT | PTE_HUGE, 8192);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 4 * PAGE, FAULT);
    expect(out(r, 3)).toEqual({ pfn: 8192 + 3, flags: HMM_PFN_VALID | 9 });
  });

  it('a protnone huge PMD reports pfns without flags or order', async () => {
    const w = await aligned();
    setPmd(w, PTE_PRESENT | PTE_HUGE | PTE_PROTNONE, 8192);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE);
    expect(out(r)).toEqual({ pfn: 8192, flags: 0 });
  });

  it('a non-present PMD that is not a migration entry reports ERROR, or EFAULT when faulted', async () => {
    const w = await aligned();
    setPmd(w, swpBits(PteKind.SWAP, false), 1);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
    expect(out(r, 1)).toEqual({ pfn: 0, flags: HMM_PFN_ERROR });
    await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });
});

/** A process with one 2 MiB MAP_HUGETLB mapping, mirrored by one notifier. */
async function hugetlbWorld(prot = RW): Promise<World> {
  const memory = new PhysicalMemory({ pages: 64, hugetlbPages: 2 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PMD_SIZE, prot, ANON | MAP_HUGETLB);
  const sub = await mirror(mm, addr, PMD_SIZE);
  return { memory, mm, sub, addr };
}

describe('hugetlb: hmm_vma_walk_hugetlb_entry()', () => {
  it('a snapshot before the first fault is a hole: no page table, no flags', async () => {
    const w = await hugetlbWorld();
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
    expect(out(r, 1)).toEqual({ pfn: 0, flags: 0 });
  });

  it('a snapshot of a read-faulted leaf reports VALID without WRITE, order 9', async () => {
    const w = await hugetlbWorld();
    await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE);
    expect(out(r, 1).flags & (HMM_PFN_VALID | HMM_PFN_WRITE)).toBe(HMM_PFN_VALID);
    expect(hmmPfnToMapOrder(r.hmmPfns, 1)).toBe(9);
  });

  it('a fault request maps the huge page: VALID, WRITE, order 9, contiguous pfns', async () => {
    const w = await hugetlbWorld();
    const r = await rangeFault(w.mm, w.sub, w.addr + PAGE, w.addr + 4 * PAGE, WRITE_FAULT);
    const pfns = [0, 1, 2].map((i) => out(r, i));
    for (const [i, o] of pfns.entries()) {
      expect(o.flags & (HMM_PFN_VALID | HMM_PFN_WRITE)).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
      expect(hmmPfnToMapOrder(r.hmmPfns, i)).toBe(9);
      expect(o.pfn).toBe(pfns[0]!.pfn + i);
    }
    const pmd = w.mm.pt.pmdSlot(w.addr, false);
    expect(w.mm.pt.bits[pmd]! & PTE_HUGE).toBe(PTE_HUGE);
    expect(pfns[0]!.pfn).toBe(w.mm.pt.pfn[pmd]! + 1);
  });

  it('decides the fault from the first page of the leaf alone, as the kernel does', async () => {
    const w = await hugetlbWorld();
    await rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, FAULT);
    const req = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
    const r = await rangeFault(w.mm, w.sub, w.addr, w.addr + 2 * PAGE, {
      pfnFlagsMask: req,
      input: { 1: req },
    });
    // Page 1 asked for write, but page 0 (the first of the leaf's part) did not: no fault.
    expect(out(r, 1).flags & (HMM_PFN_VALID | HMM_PFN_WRITE)).toBe(HMM_PFN_VALID);
    const r2 = await rangeFault(w.mm, w.sub, w.addr + PAGE, w.addr + 2 * PAGE, {
      pfnFlagsMask: req,
      input: { 0: req },
    });
    expect(out(r2, 0).flags & HMM_PFN_WRITE).toBe(HMM_PFN_WRITE);
  });

  it('a write request on a read-only hugetlb mapping fails with EPERM', async () => {
    const w = await hugetlbWorld(PROT_READ);
    await expect(rangeFault(w.mm, w.sub, w.addr, w.addr + PAGE, WRITE_FAULT)).rejects.toMatchObject(
      { code: 'EPERM' },
    );
  });
});

describe('fault errors', () => {
  it('a fault that ends in SIGBUS (beyond end of file) fails with EFAULT', async () => {
    const { memory, mm } = machine();
    const file = memory.createFile(PAGE);
    const addr = await mm.mmap(2 * PAGE, PROT_READ, MAP_SHARED, { file });
    const sub = await mirror(mm, addr, 2 * PAGE);
    const r = await rangeFault(mm, sub, addr, addr + PAGE, FAULT);
    expect(out(r).flags).toBe(HMM_PFN_VALID);
    await expect(rangeFault(mm, sub, addr, addr + 2 * PAGE, FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });

  it('a fault that runs out of memory fails with EFAULT', async () => {
    const { mm } = machine(2);
    const addr = await mm.mmap(4 * PAGE, RW, ANON);
    const sub = await mirror(mm, addr, 4 * PAGE);
    await expect(rangeFault(mm, sub, addr, addr + 4 * PAGE, WRITE_FAULT)).rejects.toMatchObject({
      code: 'EFAULT',
    });
  });
});
