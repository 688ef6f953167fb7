import {
  DmirrorDevice,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_WRITE,
} from '@hmmkit/adapter-dmirror';
import {
  MADV_HUGEPAGE,
  MAP_HUGETLB,
  Mm,
  PhysicalMemory,
  PMD_SIZE,
  PROT_NONE,
  PROT_READ,
} from '@hmmkit/mm';
import { resetRuntime } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, checkAll, expectBytes, intAt, ints, PAGE_SIZE, RW, system } from './helpers.js';

describe('anonymous memory through READ and WRITE', () => {
  it('a device read of written anonymous pages returns their data in one fault pass', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 100;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    const r = await fd.read(addr, npages);
    expect(r.cpages).toBe(npages);
    expect(r.faults).toBe(1);
    expectBytes(r.data, ints(npages));
    checkAll(memory, devices);
  });

  it('a second read finds every page already mapped and needs no fault', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(8 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(8));
    await fd.read(addr, 8);
    const again = await fd.read(addr, 8);
    expect(again).toMatchObject({ cpages: 8, faults: 0 });
    checkAll(memory, devices);
  });

  it('reading untouched anonymous memory maps the zero page read-only and reads zeros', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    const r = await fd.read(addr, 4);
    expectBytes(r.data, new Uint8Array(4 * PAGE_SIZE));
    expect(fd.ctx.entryAt(addr)).toEqual({ pfn: 0, perms: 1 });
    checkAll(memory, devices);
  });

  it('a read of a PROT_NONE mapping fails with EFAULT, and succeeds after mprotect(PROT_READ)', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 4;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    await mm.mprotect(addr, npages * PAGE_SIZE, PROT_NONE);
    await expect(fd.read(addr, npages)).rejects.toMatchObject({ code: 'EFAULT' });
    await mm.mprotect(addr, npages * PAGE_SIZE, PROT_READ);
    const r = await fd.read(addr, npages);
    expect(r).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(r.data, ints(npages));
    checkAll(memory, devices);
  });

  it('a device write to a read-only mapping is EPERM; after mprotect(RW) it lands in one pass', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 16;
    const addr = await mm.mmap(npages * PAGE_SIZE, PROT_READ, ANON);
    const zeros = await fd.read(addr, npages);
    expect(zeros).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(zeros.data, new Uint8Array(npages * PAGE_SIZE));
    await expect(fd.write(addr, ints(npages))).rejects.toMatchObject({ code: 'EPERM' });
    await mm.mprotect(addr, npages * PAGE_SIZE, RW);
    const w = await fd.write(addr, ints(npages));
    expect(w).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    checkAll(memory, devices);
  });

  it('a device write is seen by the CPU, and faults once per pass over the missing pages', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 130; // three hmm_range_fault chunks of 64 pages, one fault pass
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    const w = await fd.write(addr, ints(npages, 7));
    expect(w).toMatchObject({ cpages: npages, faults: 1 });
    const cpu = await mm.read(addr, npages * PAGE_SIZE);
    expect(intAt(cpu, 0)).toBe(7);
    expectBytes(cpu, ints(npages, 7));
    checkAll(memory, devices);
  });

  it('writing past the end of the mapping fails with EFAULT after writing what it could fault', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await expect(fd.write(addr, ints(3))).rejects.toMatchObject({ code: 'EFAULT' });
    checkAll(memory, devices);
  });

  it('a CPU write after the device mapped the page invalidates the device entry, and a re-read sees it', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
    await fd.read(addr, 1); // the zero page, read-only
    await mm.write(addr, ints(1, 5)); // COW from the zero page: the notifier erases
    expect(fd.ctx.entryAt(addr)).toBeUndefined();
    const r = await fd.read(addr, 1);
    expect(r).toMatchObject({ cpages: 1, faults: 1 });
    expectBytes(r.data, ints(1, 5));
    checkAll(memory, devices);
  });
});

describe('huge pages', () => {
  it('a THP-backed range is read and written by the device and snapshots as PMD-mapped', async () => {
    const { memory, mm, devices, fd } = await system({ pages: 4096 });
    const npages = PMD_SIZE / PAGE_SIZE;
    const raw = await mm.mmap(2 * PMD_SIZE, RW, ANON);
    const addr = Math.ceil(raw / PMD_SIZE) * PMD_SIZE;
    await mm.madvise(addr, PMD_SIZE, MADV_HUGEPAGE);
    await mm.write(addr, ints(npages));
    const snap = await fd.snapshot(addr, npages);
    expect(snap[0]! & HMM_DMIRROR_PROT_PMD).toBe(HMM_DMIRROR_PROT_PMD);
    expect(snap[npages - 1]).toBe(HMM_DMIRROR_PROT_PMD | HMM_DMIRROR_PROT_WRITE);
    const r = await fd.read(addr, npages);
    expect(r).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(r.data, ints(npages));
    const w = await fd.write(addr, ints(npages, 3));
    expect(w).toMatchObject({ cpages: npages, faults: 0 });
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages, 3));
    checkAll(memory, devices);
  });

  it('hugetlb: the device reads and writes a MAP_HUGETLB page in one fault pass; it snapshots PMD-mapped', async () => {
    // hmm_vma_walk_hugetlb_entry() reports every page of the huge page with order 9.
    resetRuntime();
    const memory = new PhysicalMemory({ pages: 512, hugetlbPages: 2 });
    const mm = Mm.create(memory);
    const devices = [DmirrorDevice.create(memory, { kind: 'private', pages: 16 })];
    const fd = await devices[0]!.open(mm);
    const npages = PMD_SIZE / PAGE_SIZE;
    const addr = await mm.mmap(PMD_SIZE, RW, ANON | MAP_HUGETLB);
    await mm.write(addr, ints(npages));
    const r = await fd.read(addr, npages);
    expect(r).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(r.data, ints(npages));
    const w = await fd.write(addr, ints(npages, 7));
    expect(w).toMatchObject({ cpages: npages, faults: 0 });
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages, 7));
    const snap = await fd.snapshot(addr, 1);
    expect(snap[0]).toBe(HMM_DMIRROR_PROT_PMD | HMM_DMIRROR_PROT_WRITE);
    checkAll(memory, devices);
  });

  it('hugetlb pages are neither migrated (EINVAL from migrate_vma_setup) nor made exclusive', async () => {
    resetRuntime();
    const memory = new PhysicalMemory({ pages: 512, hugetlbPages: 1 });
    const mm = Mm.create(memory);
    const devices = [DmirrorDevice.create(memory, { kind: 'private', pages: 16 })];
    const fd = await devices[0]!.open(mm);
    const addr = await mm.mmap(PMD_SIZE, RW, ANON | MAP_HUGETLB);
    await mm.write(addr, ints(1));
    await expect(fd.migrateToDevice(addr, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fd.exclusive(addr, 1)).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    expectBytes(await mm.read(addr, PAGE_SIZE), ints(1));
    checkAll(memory, devices);
  });
});

describe('huge pages and migration', () => {
  it('migrating a PMD-mapped THP splits it and moves every page to the device', async () => {
    const { memory, mm, devices, fd } = await system({ pages: 4096, devicePages: 512 });
    const npages = PMD_SIZE / PAGE_SIZE;
    const raw = await mm.mmap(2 * PMD_SIZE, RW, ANON);
    const addr = Math.ceil(raw / PMD_SIZE) * PMD_SIZE;
    await mm.madvise(addr, PMD_SIZE, MADV_HUGEPAGE);
    await mm.write(addr, ints(npages));
    expect((await fd.snapshot(addr, 1))[0]).toBe(HMM_DMIRROR_PROT_PMD | HMM_DMIRROR_PROT_WRITE);
    const r = await fd.migrateToDevice(addr, npages);
    expect(r.cpages).toBe(npages);
    expectBytes(r.data, ints(npages));
    const local = HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE;
    expect([...new Set(await fd.snapshot(addr, npages))]).toEqual([local]);
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    checkAll(memory, devices);
  });
});
