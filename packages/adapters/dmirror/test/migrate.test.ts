import {
  HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL,
  HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_WRITE,
} from '@hmmkit/adapter-dmirror';
import { MAP_ANONYMOUS, MAP_SHARED, PROT_NONE, PROT_READ } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import { ANON, checkAll, expectBytes, ints, PAGE_SIZE, RW, system } from './helpers.js';

const LOCAL_W = HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE;

describe('migration to device memory and back', () => {
  it('migrating anonymous pages moves them into device memory and reads them back', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 70; // two migrate_vma chunks
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    const free = devices[0]!.freePages;
    const r = await fd.migrateToDevice(addr, npages);
    expect(r.cpages).toBe(npages);
    expectBytes(r.data, ints(npages));
    expect(devices[0]!.freePages).toBe(free - npages);
    const snap = await fd.snapshot(addr, npages);
    expect([...new Set(snap)]).toEqual([LOCAL_W]);
    checkAll(memory, devices);
  });

  it('a CPU read of migrated pages faults each one back to system memory with its data', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 8;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    const free = devices[0]!.freePages;
    await fd.migrateToDevice(addr, npages);
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    expect(devices[0]!.freePages).toBe(free);
    const snap = await fd.snapshot(addr, npages);
    expect([...new Set(snap)]).toEqual([HMM_DMIRROR_PROT_WRITE]);
    // migrate_to_ram erased the device entries of the pages it moved
    expect(fd.ctx.entryAt(addr)).toBeUndefined();
    checkAll(memory, devices);
  });

  it('pages that were never touched migrate as cleared device pages', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    const r = await fd.migrateToDevice(addr, 4);
    expect(r.cpages).toBe(4);
    expectBytes(r.data, new Uint8Array(4 * PAGE_SIZE));
    expect((await fd.snapshot(addr, 4))[3]).toBe(LOCAL_W);
    checkAll(memory, devices);
  });

  it('the device reads and writes its own migrated pages without faulting them back', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.migrateToDevice(addr, 4);
    const r = await fd.read(addr, 4);
    expect(r).toMatchObject({ cpages: 4, faults: 0 });
    expectBytes(r.data, ints(4));
    await fd.write(addr, ints(4, 9));
    expect((await fd.snapshot(addr, 4))[0]).toBe(LOCAL_W);
    expectBytes(await mm.read(addr, 4 * PAGE_SIZE), ints(4, 9));
    checkAll(memory, devices);
  });

  it('migrating back to system memory counts the pages moved and keeps the data', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 70;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    await fd.migrateToDevice(addr, npages);
    const r = await fd.migrateToSystem(addr, npages);
    expect(r).toEqual({ cpages: npages, faults: 0 });
    expect([...new Set(await fd.snapshot(addr, npages))]).toEqual([HMM_DMIRROR_PROT_WRITE]);
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    // nothing of ours left: a second pass moves nothing
    expect((await fd.migrateToSystem(addr, npages)).cpages).toBe(0);
    checkAll(memory, devices);
  });

  it('several rounds of migration to the device and CPU faults back keep the data', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 16;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    for (let round = 0; round < 4; round++) {
      await mm.write(addr, ints(npages, round));
      const r = await fd.migrateToDevice(addr, npages);
      expect(r.cpages).toBe(npages);
      expectBytes(r.data, ints(npages, round));
      expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages, round));
    }
    checkAll(memory, devices);
  });

  it('a shared anonymous mapping is not migrated: the read back fails with ENOENT', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
    await mm.write(addr, ints(4));
    await expect(fd.migrateToDevice(addr, 4)).rejects.toMatchObject({ code: 'ENOENT' });
    expect([...new Set(await fd.snapshot(addr, 4))]).toEqual([HMM_DMIRROR_PROT_WRITE]);
    expectBytes(await mm.read(addr, 4 * PAGE_SIZE), ints(4));
    checkAll(memory, devices);
  });

  it('a range with a hole or a PROT_NONE VMA is EINVAL; a read-only VMA migrates read-only', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(6 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(6));
    await mm.mprotect(addr, PAGE_SIZE, PROT_NONE);
    await mm.munmap(addr + PAGE_SIZE, PAGE_SIZE);
    await mm.mprotect(addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ);
    await expect(fd.migrateToDevice(addr, 6)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fd.migrateToDevice(addr + PAGE_SIZE, 5)).rejects.toMatchObject({ code: 'EINVAL' });
    const r = await fd.migrateToDevice(addr + 2 * PAGE_SIZE, 4);
    expect(r.cpages).toBe(4);
    expectBytes(r.data, ints(6).subarray(2 * PAGE_SIZE));
    const snap = await fd.snapshot(addr + 2 * PAGE_SIZE, 4);
    expect([...snap]).toEqual([
      HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | 1,
      HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | 1,
      LOCAL_W,
      LOCAL_W,
    ]);
    checkAll(memory, devices);
  });

  it('another device snapshots a private page as not present, and its read faults it back', async () => {
    const { memory, mm, devices, fd } = await system();
    const fd1 = await devices[1]!.open(mm);
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.migrateToDevice(addr, 4);
    // hmm_range_fault reports only the owner's device-private entries; without a fault
    // request another owner's entry is 0, which dmirror_mkentry() turns into PROT_NONE
    expect([...new Set(await fd1.snapshot(addr, 4))]).toEqual([HMM_DMIRROR_PROT_NONE]);
    const r = await fd1.read(addr, 4);
    expect(r).toMatchObject({ cpages: 4, faults: 1 });
    expectBytes(r.data, ints(4));
    expect((await fd.snapshot(addr, 4))[0]).toBe(HMM_DMIRROR_PROT_WRITE);
    await fd1.migrateToDevice(addr, 4);
    expect((await fd1.snapshot(addr, 4))[0]).toBe(LOCAL_W);
    expect((await fd.snapshot(addr, 4))[0]).toBe(HMM_DMIRROR_PROT_NONE);
    checkAll(memory, devices);
  });

  it('a coherent page of one device is REMOTE for the other coherent device', async () => {
    const { memory, mm, devices } = await system();
    const [fd2, fd3] = [await devices[2]!.open(mm), await devices[3]!.open(mm)];
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd2.migrateToDevice(addr, 2);
    expect((await fd3.snapshot(addr, 2))[1]).toBe(
      HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE | HMM_DMIRROR_PROT_WRITE,
    );
    const r = await fd3.read(addr, 2);
    expect(r).toMatchObject({ cpages: 2, faults: 1 });
    expectBytes(r.data, ints(2));
    checkAll(memory, devices);
  });

  it('a device cannot migrate pages that sit in the other device: ENOENT', async () => {
    const { memory, mm, devices, fd } = await system();
    const fd1 = await devices[1]!.open(mm);
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.migrateToDevice(addr, 2);
    await expect(fd1.migrateToDevice(addr, 2)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fd.snapshot(addr, 2))[0]).toBe(LOCAL_W);
    checkAll(memory, devices);
  });

  it('when device memory runs out the pages left behind make MIGRATE_TO_DEV fail with ENOENT', async () => {
    const { memory, mm, devices, fd } = await system({ devicePages: 4 });
    const addr = await mm.mmap(6 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(6));
    await expect(fd.migrateToDevice(addr, 6)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(devices[0]!.freePages).toBe(0);
    expectBytes(await mm.read(addr, 6 * PAGE_SIZE), ints(6));
    checkAll(memory, devices);
  });

  it('RELEASE evicts every device page to system memory and the device memory is free again', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(8 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(8));
    await fd.migrateToDevice(addr, 8);
    await fd.release();
    expect(devices[0]!.freePages).toBe(256);
    expect([...new Set(await fd.snapshot(addr, 8))]).toEqual([HMM_DMIRROR_PROT_WRITE]);
    expectBytes(await mm.read(addr, 8 * PAGE_SIZE), ints(8));
    expect((await fd.migrateToDevice(addr, 8)).cpages).toBe(8);
    checkAll(memory, devices);
  });

  it('a coherent device keeps migrated pages CPU-mapped: the CPU reads them in place', async () => {
    const { memory, mm, devices } = await system();
    const fd2 = await devices[2]!.open(mm);
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    const r = await fd2.migrateToDevice(addr, 4);
    expect(r.cpages).toBe(4);
    const coherent = HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE;
    expect([...new Set(await fd2.snapshot(addr, 4))]).toEqual([coherent]);
    expectBytes(await mm.read(addr, 4 * PAGE_SIZE), ints(4));
    expect((await fd2.snapshot(addr, 4))[0]).toBe(coherent); // no migration on CPU access
    expect((await fd2.migrateToSystem(addr, 4)).cpages).toBe(4);
    expect((await fd2.snapshot(addr, 4))[0]).toBe(HMM_DMIRROR_PROT_WRITE);
    checkAll(memory, devices);
  });

  it('munmap of migrated pages frees the device pages', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.migrateToDevice(addr, 4);
    await mm.munmap(addr, 4 * PAGE_SIZE);
    expect(devices[0]!.freePages).toBe(256);
    expect(fd.ctx.entryAt(addr)).toBeUndefined();
    checkAll(memory, devices);
  });
});
