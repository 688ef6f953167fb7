import { HMM_DMIRROR_PROT_READ, HMM_DMIRROR_PROT_WRITE } from '@hmmkit/adapter-dmirror';
import { FOLL_LONGTERM, FOLL_WRITE, MAP_SHARED, PROT_READ } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import {
  ANON,
  checkAll,
  expectBytes,
  ints,
  PAGE_SIZE,
  RW,
  SHARED_ANON,
  system,
} from './helpers.js';

describe('fork', () => {
  it('a device write in the child of a private mapping breaks COW: the parent keeps its data', async () => {
    const { memory, mm, devices } = await system();
    const npages = 8;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    const child = await mm.fork();
    const cfd = await devices[0]!.open(child);
    const w = await cfd.write(addr, ints(npages, -1000));
    expect(w).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(await child.read(addr, npages * PAGE_SIZE), ints(npages, -1000));
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    checkAll(memory, devices);
    await cfd.close();
    await child.exit();
    checkAll(memory, devices);
  });

  it('a device write in the child of a shared mapping is seen by the parent', async () => {
    const { memory, mm, devices } = await system();
    const npages = 8;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, SHARED_ANON);
    await mm.write(addr, ints(npages));
    const child = await mm.fork();
    const cfd = await devices[0]!.open(child);
    await cfd.write(addr, ints(npages, 500));
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages, 500));
    await cfd.close();
    await child.exit();
    checkAll(memory, devices);
  });

  it('pages in device memory are copy-on-write after fork: a child write leaves the parent alone', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 4;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    await fd.migrateToDevice(addr, npages);
    const child = await mm.fork();
    expectBytes(await child.read(addr, npages * PAGE_SIZE), ints(npages));
    await child.write(addr, ints(npages, 77));
    expectBytes(await child.read(addr, npages * PAGE_SIZE), ints(npages, 77));
    const r = await fd.read(addr, npages);
    expectBytes(r.data, ints(npages));
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    checkAll(memory, devices);
    await child.exit();
    checkAll(memory, devices);
  });

  it('after fork the parent device entries for its private pages are dropped (COW write-protect)', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.write(addr, ints(2, 1));
    expect(fd.ctx.entryAt(addr)?.perms).toBe(3);
    const child = await mm.fork();
    expect(fd.ctx.entryAt(addr)?.perms ?? 0).toBeLessThan(3);
    const w = await fd.write(addr, ints(2, 2));
    expect(w.faults).toBe(1);
    expectBytes(await child.read(addr, 2 * PAGE_SIZE), ints(2, 1));
    expectBytes(await mm.read(addr, 2 * PAGE_SIZE), ints(2, 2));
    await child.exit();
    checkAll(memory, devices);
  });
});

describe('file mappings', () => {
  it('the device reads a shared file mapping and its writes reach the file', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 6;
    const file = memory.createFile(npages * PAGE_SIZE);
    file.pwrite(ints(npages), 0);
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, MAP_SHARED, { file });
    const r = await fd.read(addr, npages);
    expect(r).toMatchObject({ cpages: npages, faults: 1 });
    expectBytes(r.data, ints(npages));
    const w = await fd.write(addr, ints(npages, 40));
    expect(w.cpages).toBe(npages);
    expectBytes(file.pread(npages * PAGE_SIZE, 0), ints(npages, 40));
    checkAll(memory, devices);
  });

  it('a read-only shared file mapping snapshots READ and refuses device writes with EPERM', async () => {
    const { memory, mm, devices, fd } = await system();
    const file = memory.createFile(2 * PAGE_SIZE);
    file.pwrite(ints(2), 0);
    const addr = await mm.mmap(2 * PAGE_SIZE, PROT_READ, MAP_SHARED, { file });
    await mm.read(addr, 2 * PAGE_SIZE);
    expect([...(await fd.snapshot(addr, 2))]).toEqual([
      HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_READ,
    ]);
    await expect(fd.write(addr, ints(2))).rejects.toMatchObject({ code: 'EPERM' });
    checkAll(memory, devices);
  });

  it('a shared file mapping is not migrated to the device: ENOENT', async () => {
    const { memory, mm, devices, fd } = await system();
    const file = memory.createFile(2 * PAGE_SIZE);
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, MAP_SHARED, { file });
    await mm.write(addr, ints(2));
    await expect(fd.migrateToDevice(addr, 2)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fd.snapshot(addr, 2))[0]).toBe(HMM_DMIRROR_PROT_WRITE);
    checkAll(memory, devices);
  });

  it('an mmap of the device file is a mixed map of zeroed driver pages, read-only when private', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await fd.mmapDeviceFile(mm, 2, RW, 0x02 /* MAP_PRIVATE */);
    expect([...(await fd.snapshot(addr, 2))]).toEqual([
      HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_READ,
    ]);
    const r = await fd.read(addr, 2);
    expect(r).toMatchObject({ cpages: 2, faults: 1 });
    expectBytes(r.data, new Uint8Array(2 * PAGE_SIZE));
    await mm.munmap(addr, 2 * PAGE_SIZE);
    checkAll(memory, devices);
  });

  it('a shared mmap of the device file is writable by the CPU and the device', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await fd.mmapDeviceFile(mm, 1, RW, MAP_SHARED);
    expect((await fd.snapshot(addr, 1))[0]).toBe(HMM_DMIRROR_PROT_WRITE);
    await fd.write(addr, ints(1, 3));
    expectBytes(await mm.read(addr, PAGE_SIZE), ints(1, 3));
    checkAll(memory, devices);
  });
});

describe('device pages and the rest of mm', () => {
  it('the parent writing COW-shared device pages gets system copies (hmm_cow_in_device)', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.migrateToDevice(addr, 4);
    const child = await mm.fork();
    await mm.write(addr, ints(4, 1));
    expect([...new Set(await fd.snapshot(addr, 4))]).toEqual([HMM_DMIRROR_PROT_WRITE]);
    expectBytes(await child.read(addr, 4 * PAGE_SIZE), ints(4));
    await child.exit();
    checkAll(memory, devices);
  });

  it('GUP and a FOLL_LONGTERM pin bring device-private pages back to system memory (hmm_gup_test)', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.migrateToDevice(addr, 2);
    const refs = [
      ...(await mm.getUserPages(addr, 1, FOLL_WRITE)),
      ...(await mm.pinUserPages(addr + PAGE_SIZE, 1, FOLL_WRITE | FOLL_LONGTERM)),
    ];
    expect([...(await fd.snapshot(addr, 2))]).toEqual([
      HMM_DMIRROR_PROT_WRITE,
      HMM_DMIRROR_PROT_WRITE,
    ]);
    for (const r of refs) r.release();
    expectBytes(await mm.read(addr, 2 * PAGE_SIZE), ints(2));
    checkAll(memory, devices);
  });
});
