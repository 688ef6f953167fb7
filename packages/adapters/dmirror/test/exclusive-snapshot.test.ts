import {
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
} from '@hmmkit/adapter-dmirror';
import { PROT_NONE, PROT_READ } from '@hmmkit/mm';
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

describe('exclusive access', () => {
  it('EXCLUSIVE maps the pages atomically; a CPU access revokes it and CHECK_EXCLUSIVE then passes', async () => {
    const { memory, mm, devices, fd } = await system();
    const npages = 6;
    const addr = await mm.mmap(npages * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(npages));
    const r = await fd.exclusive(addr, npages);
    expect(r.cpages).toBe(npages);
    expectBytes(r.data, ints(npages));
    await expect(fd.checkExclusive(addr, npages)).rejects.toMatchObject({ code: 'EPERM' });
    checkAll(memory, devices);
    expectBytes(await mm.read(addr, npages * PAGE_SIZE), ints(npages));
    await expect(fd.checkExclusive(addr, npages)).resolves.toBeUndefined();
    checkAll(memory, devices);
  });

  it('a device write after mprotect(PROT_READ) of exclusive pages is EPERM', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.exclusive(addr, 4);
    await mm.mprotect(addr, 4 * PAGE_SIZE, PROT_READ);
    await expect(fd.write(addr, ints(4, 1))).rejects.toMatchObject({ code: 'EPERM' });
    expectBytes(await mm.read(addr, 4 * PAGE_SIZE), ints(4));
    checkAll(memory, devices);
  });

  it('fork revokes device exclusivity in the parent and both see the same data', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.exclusive(addr, 4);
    const child = await mm.fork();
    await expect(fd.checkExclusive(addr, 4)).resolves.toBeUndefined();
    expectBytes(await child.read(addr, 4 * PAGE_SIZE), ints(4));
    expectBytes(await mm.read(addr, 4 * PAGE_SIZE), ints(4));
    await child.exit();
    checkAll(memory, devices);
  });

  it('a device write to an exclusive page takes it back to a normal writable mapping', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(1));
    await fd.exclusive(addr, 1);
    const w = await fd.write(addr, ints(1, 8));
    expect(w).toMatchObject({ cpages: 1, faults: 1 });
    await expect(fd.checkExclusive(addr, 1)).resolves.toBeUndefined();
    expectBytes(await mm.read(addr, PAGE_SIZE), ints(1, 8));
    checkAll(memory, devices);
  });

  it('exclusive access to a shared mapping is refused (anonymous private pages only)', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(PAGE_SIZE, RW, SHARED_ANON);
    await mm.write(addr, ints(1));
    await expect(fd.exclusive(addr, 1)).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    checkAll(memory, devices);
  });
});

describe('snapshot', () => {
  it('a mixed range snapshots as hmm-tests expects, page by page', async () => {
    const { memory, mm, devices, fd } = await system();
    const fd1 = await devices[1]!.open(mm);
    const addr = await mm.mmap(8 * PAGE_SIZE, RW, ANON);
    const p = (i: number) => addr + i * PAGE_SIZE;
    await mm.munmap(p(0), PAGE_SIZE); // no VMA
    await mm.mprotect(p(1), PAGE_SIZE, PROT_NONE); // unreadable VMA
    await mm.mprotect(p(2), PAGE_SIZE, PROT_READ);
    await mm.read(p(2), 1); // zero page
    await mm.write(p(3), ints(1));
    await mm.mprotect(p(3), PAGE_SIZE, PROT_READ);
    await mm.write(p(4), ints(1));
    await mm.write(p(5), ints(1));
    await fd.migrateToDevice(p(5), 1);
    await mm.write(p(6), ints(1));
    await fd1.migrateToDevice(p(6), 1);
    const snap = await fd.snapshot(addr, 8);
    expect([...snap]).toEqual([
      HMM_DMIRROR_PROT_ERROR,
      HMM_DMIRROR_PROT_ERROR,
      HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_WRITE,
      HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE,
      HMM_DMIRROR_PROT_NONE, // another owner's device-private page is not reported
      HMM_DMIRROR_PROT_NONE, // never touched
    ]);
    checkAll(memory, devices);
  });

  it('a snapshot faults nothing in and leaves no notifier behind', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(100 * PAGE_SIZE, RW, ANON);
    const free = memory.freePages;
    const snap = await fd.snapshot(addr, 100);
    expect(snap.every((b) => b === HMM_DMIRROR_PROT_NONE)).toBe(true);
    expect(memory.freePages).toBe(free);
    // only the file's own notifier is still registered: one munmap, one callback pass
    await fd.read(addr, 1);
    await mm.munmap(addr, 100 * PAGE_SIZE);
    expect(fd.ctx.entryAt(addr)).toBeUndefined();
    checkAll(memory, devices);
  });
});
