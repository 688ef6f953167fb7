/** The README examples, run as written. */

import {
  DevicePagePool,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  hmmPfnToPage,
  hmmRangeFaultLoop,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migratePfn,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { MAP_ANONYMOUS, MAP_PRIVATE, Mm, PhysicalMemory, PROT_READ, PROT_WRITE } from '@hmmkit/mm';
import { mmuNotifierRangeBlockable } from '@hmmkit/mmu-notifier';
import { Mutex } from '@hmmkit/runtime';
import { expect, it } from 'vitest';

it('the driver-loop example programs a device page table', async () => {
  const memory = new PhysicalMemory({ pages: 1024 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

  const driverLock = new Mutex('driver');
  const devicePt = new Map<number, number>(); // address -> pfn, the device's page table
  const sub = await mm.notifiers.insertInterval(addr, 16 * 4096, {
    async invalidate(s, range, curSeq) {
      if (mmuNotifierRangeBlockable(range)) await driverLock.lock();
      else if (!driverLock.trylock()) return false; // OOM reaper: must not sleep
      s.setSeq(curSeq);
      for (let a = range.start; a < range.end; a += 4096) devicePt.delete(a);
      driverLock.unlock();
      return true;
    },
  });

  const range = {
    notifier: sub,
    notifierSeq: 0,
    start: addr,
    end: addr + 16 * 4096,
    hmmPfns: new HmmPfns(16),
    defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
    pfnFlagsMask: 0,
  };
  await hmmRangeFaultLoop(range, {
    lock: driverLock,
    program(r) {
      for (let i = 0; i < 16; i++)
        if (r.hmmPfns.flags[i]! & HMM_PFN_VALID)
          devicePt.set(r.start + i * 4096, hmmPfnToPage(r.hmmPfns, i));
    },
  });
  expect(devicePt.size).toBe(16);
  expect(range.hmmPfns.flags[3]).toBe(HMM_PFN_VALID | HMM_PFN_WRITE);
  await mm.munmap(addr, 4096); // the notifier drops the device's mapping
  expect(devicePt.has(addr)).toBe(false);
});

it('the device memory pool example moves a page to device memory and back', async () => {
  const memory = new PhysicalMemory({ pages: 1024 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new Uint8Array([1, 2, 3]));

  const owner = { name: 'my-device' };
  // memremap_pages() + a free list; migrate_to_ram defaults to pool.migrateToRam
  const pool = new DevicePagePool(memory, { type: 'private', nrPages: 4, owner });

  // Migrate to the device (lib/test_hmm.c's dmirror_migrate_to_device).
  await mm.mmapLock.downRead();
  const args: MigrateVma = {
    mm,
    vma: mm.vmaLookup(addr)!,
    start: addr,
    end: addr + 4096,
    src: new Float64Array(1),
    dst: new Float64Array(1),
    cpages: 0,
    npages: 0,
    pgmapOwner: owner,
    flags: MIGRATE_VMA_SELECT_SYSTEM,
  };
  await migrateVmaSetup(args); // MMU_NOTIFY_MIGRATE, owner = our pgmap owner
  const dpage = pool.allocPage(); // zone_device_page_init: refcount 1, locked
  memory.copyPage(dpage, migratePfnToPage(args.src[0]!)); // the device's DMA copy
  args.dst[0] = migratePfn(dpage);
  await migrateVmaPages(args);
  migrateVmaFinalize(args); // the PTE is now a device-private entry
  mm.mmapLock.upRead();
  expect(pool.nrUsed).toBe(1);

  // The CPU reads it: a fault on the device-private entry calls pool.migrateToRam.
  expect([...(await mm.read(addr, 3))]).toEqual([1, 2, 3]);
  expect(memory.refcount[dpage]).toBe(0); // page_free put it back on the free list
  expect(pool.nrFree).toBe(4);

  await pool.remove(); // evict what is left, then memunmap_pages
  expect(pool.pagemap.state).toBe('dead');
});
