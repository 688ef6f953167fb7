import { DevicePagePool, memremapPages, memunmapPages } from '@hmmkit/hmm';
import {
  assertInvariants,
  type Mm,
  PG_LOCKED,
  PteKind,
  pteKind,
  VM_FAULT_SIGBUS,
} from '@hmmkit/mm';
import { explore, replay, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, PAGE, RW } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

const noop = () => 0;

function kindAt(mm: Mm, addr: number): PteKind {
  const slot = mm.pt.pteSlot(addr, false);
  return pteKind(slot < 0 ? 0 : mm.pt.bits[slot]!);
}

describe('memremapPages / memunmapPages', () => {
  it('registers idle pages; pageInit hands one out locked with refcount 1 and one pagemap reference', () => {
    const { memory } = machine(16);
    const freed: number[] = [];
    const pm = memremapPages(memory, {
      type: 'private',
      nrPages: 2,
      owner: 'dev',
      ops: { migrateToRam: noop, pageFree: (pfn) => freed.push(pfn) },
    });
    expect(memory.pagemapOf(pm.firstPfn)).toBe(pm.pgmap);
    expect(memory.refcount[pm.firstPfn]).toBe(0);
    pm.pageInit(pm.firstPfn);
    expect(memory.refcount[pm.firstPfn]).toBe(1);
    expect(memory.flags[pm.firstPfn]! & PG_LOCKED).toBe(PG_LOCKED);
    expect(pm.inUse).toBe(1);
    memory.unlockPage(pm.firstPfn);
    memory.putPage(pm.firstPfn);
    expect(freed).toEqual([pm.firstPfn]);
    expect(pm.inUse).toBe(0);
  });

  it('memunmapPages sleeps while a page is handed out and returns once it is freed', async () => {
    const { memory } = machine(16);
    const pm = memremapPages(memory, {
      type: 'coherent',
      nrPages: 1,
      owner: 'dev',
      ops: { pageFree: () => {} },
    });
    pm.pageInit(pm.firstPfn);
    memory.unlockPage(pm.firstPfn);
    const unmap = spawn('unmap', () => memunmapPages(pm));
    const check = spawn('check', () => {
      expect(unmap.done).toBe(false);
      expect(pm.state).toBe('dying');
      memory.putPage(pm.firstPfn);
    });
    await check.join();
    await unmap.join();
    expect(pm.state).toBe('dead');
    expect(pm.pgmap.ops).toEqual({});
  });

  it('a dying or dead pagemap hands out no page (ENODEV) and cannot be unmapped twice', async () => {
    const { memory } = machine(16);
    const pm = memremapPages(memory, {
      type: 'private',
      nrPages: 2,
      owner: 'dev',
      ops: { migrateToRam: noop, pageFree: () => {} },
    });
    pm.pageInit(pm.firstPfn);
    const unmap = spawn('unmap', () => memunmapPages(pm));
    const other = spawn('other', async () => {
      expect(() => pm.pageInit(pm.firstPfn + 1)).toThrow(
        expect.objectContaining({ code: 'ENODEV' }),
      );
      await expect(memunmapPages(pm)).rejects.toMatchObject({ code: 'EBUSY' });
      memory.unlockPage(pm.firstPfn);
      memory.putPage(pm.firstPfn);
    });
    await other.join();
    await unmap.join();
    await expect(memunmapPages(pm)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => pm.pageInit(pm.firstPfn)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });
});

describe('DevicePagePool', () => {
  it('allocates every page once, returns -1 when empty and reuses a freed page', () => {
    const { memory } = machine(16);
    const pool = new DevicePagePool(memory, { type: 'coherent', nrPages: 3, owner: 'dev' });
    const pages = [pool.allocPage(), pool.allocPage(), pool.allocPage()];
    expect(new Set(pages).size).toBe(3);
    for (const p of pages) expect(pool.contains(p)).toBe(true);
    expect(pool.allocPage()).toBe(-1);
    expect(pool.nrUsed).toBe(3);
    memory.unlockPage(pages[1]!);
    memory.putPage(pages[1]!);
    expect(pool.nrFree).toBe(1);
    expect(pool.allocPage()).toBe(pages[1]);
  });

  it('onPageFree runs after the page is back on the free list', () => {
    const { memory } = machine(16);
    const seen: number[] = [];
    const pool: DevicePagePool = new DevicePagePool(memory, {
      type: 'coherent',
      nrPages: 1,
      owner: 'dev',
      onPageFree: (pfn) => seen.push(pfn, pool.nrFree),
    });
    const p = pool.allocPage();
    memory.unlockPage(p);
    memory.putPage(p);
    expect(seen).toEqual([p, 1]);
  });

  it('a page migrated to the pool comes back to RAM on a CPU fault through the default migrateToRam', async () => {
    const { memory, mm } = machine(32);
    const addr = await mm.mmap(2 * PAGE, RW, ANON);
    await mm.write(addr, new Uint8Array([7, 8, 9]));
    const dev = new TinyDevice(memory, 2);
    expect((await dev.migrateToDevice(mm, addr, 2)).cpages).toBe(2);
    expect(dev.pool.nrUsed).toBe(2);
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    expect(await mm.read(addr, 3)).toEqual(new Uint8Array([7, 8, 9]));
    expect(dev.faults).toBe(1);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
    expect(dev.pool.nrUsed).toBe(1);
    assertInvariants(memory);
  });

  it('migrateToRam returns VM_FAULT_SIGBUS when migrate_vma_setup fails, as dmirror_devmem_fault() does', async () => {
    const { memory, mm } = machine(32);
    const addr = await mm.mmap(PAGE, RW, ANON);
    await mm.write(addr, new Uint8Array([1]));
    const dev = new TinyDevice(memory, 1);
    const vma = mm.findVma(addr)!;
    // A RAM pfn as the faulting page: migrate_vma_setup() rejects it (EINVAL).
    const ramPfn = memory.allocPage();
    const vmf = { mm, vma, address: addr, flags: 0, kind: PteKind.PRESENT, pfn: ramPfn, bits: 0 };
    expect(await dev.pool.migrateToRam(vmf)).toBe(VM_FAULT_SIGBUS);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
  });

  it('remove() evicts the pages still in use, then unregisters the pagemap', async () => {
    const { memory, mm } = machine(32);
    const addr = await mm.mmap(2 * PAGE, RW, ANON);
    await mm.write(addr + PAGE, new Uint8Array([5]));
    const dev = new TinyDevice(memory, 4);
    await dev.migrateToDevice(mm, addr, 2);
    await dev.pool.remove();
    expect(dev.pool.pagemap.state).toBe('dead');
    expect(dev.pool.nrUsed).toBe(0);
    expect(dev.faults).toBe(0);
    expect(kindAt(mm, addr + PAGE)).toBe(PteKind.PRESENT);
    expect((await mm.read(addr + PAGE, 1))[0]).toBe(5);
    expect(() => dev.pool.allocPage()).toThrow(expect.objectContaining({ code: 'ENODEV' }));
    await expect(dev.pool.remove()).rejects.toMatchObject({ code: 'EINVAL' });
    assertInvariants(memory);
  });

  it('evict() fails with ENOMEM when RAM is out and leaves the page on the device', async () => {
    const { memory, mm } = machine(32);
    const addr = await mm.mmap(PAGE, RW, ANON);
    await mm.write(addr, new Uint8Array([3]));
    const dev = new TinyDevice(memory, 1);
    await dev.migrateToDevice(mm, addr, 1);
    const hog: number[] = [];
    for (let p = memory.allocPage(); p >= 0; p = memory.allocPage()) hog.push(p);
    await expect(dev.pool.evict()).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(kindAt(mm, addr)).toBe(PteKind.DEVICE_PRIVATE);
    for (const p of hog) memory.putPage(p);
    expect(await dev.pool.evict()).toBe(1);
    expect((await mm.read(addr, 1))[0]).toBe(3);
  });
});

/** A CPU read fault (migrateToRam) and pool removal (evict + memunmapPages) on one page. */
function faultVsRemove(outcomes: Set<number>) {
  return async () => {
    const { memory, mm } = machine(32);
    const addr = await mm.mmap(PAGE, RW, ANON);
    await mm.write(addr, new Uint8Array([42]));
    const dev = new TinyDevice(memory, 1);
    await dev.migrateToDevice(mm, addr, 1);
    const cpu = spawn('cpu-fault', async () => (await mm.read(addr, 1))[0]);
    const evict = spawn('remove', async () => {
      await dev.pool.remove();
      return memory.refcount[dev.firstPfn]; // memunmap_pages returns only once it is 0
    });
    expect(await cpu.join()).toBe(42);
    expect(await evict.join()).toBe(0);
    expect(dev.pool.pagemap.state).toBe('dead');
    expect(dev.pool.nrUsed).toBe(0);
    expect(kindAt(mm, addr)).toBe(PteKind.PRESENT);
    assertInvariants(memory);
    outcomes.add(dev.faults);
  };
}

describe('a CPU fault racing pool removal on the same page (DFS, preemption bound 2)', () => {
  it('keeps the data, frees every device page and completes memunmap, whichever side moves the page', async () => {
    const outcomes = new Set<number>();
    const res = await explore(faultVsRemove(outcomes), { policy: 'dfs', preemptionBound: 2 });
    expect(res.failure?.replay, String(res.failure?.error)).toBeUndefined();
    expect(res.exhausted).toBe(true);
    expect(outcomes).toEqual(new Set([0, 1]));
  });

  it('schedule dfs:0:8>2: eviction skips the page the fault holds and memunmap waits for the fault', async () => {
    // Found when memunmapPages did not wait: remove() returned with the page still in use.
    const outcomes = new Set<number>();
    await replay('dfs:0:8>2', faultVsRemove(outcomes));
    expect(outcomes).toEqual(new Set([1]));
  });
});
