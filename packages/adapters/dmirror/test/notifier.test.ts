import { oomReap, PROT_READ } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import { ANON, checkAll, expectBytes, ints, mappedIn, PAGE_SIZE, RW, system } from './helpers.js';

describe('the invalidation callback', () => {
  it('erases [start >> 12, end >> 12] inclusive: the page after the range goes too', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(4 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(4));
    await fd.read(addr, 4);
    await mm.mprotect(addr + PAGE_SIZE, PAGE_SIZE, PROT_READ);
    expect(fd.ctx.entryAt(addr)).toBeDefined();
    expect(fd.ctx.entryAt(addr + PAGE_SIZE)).toBeUndefined();
    expect(fd.ctx.entryAt(addr + 2 * PAGE_SIZE)).toBeUndefined(); // over-invalidation
    expect(fd.ctx.entryAt(addr + 3 * PAGE_SIZE)).toBeDefined();
    const r = await fd.read(addr, 4);
    expect(r).toMatchObject({ cpages: 4, faults: 1 });
    checkAll(memory, devices);
  });

  it('skips its own MIGRATE events: a page that failed to migrate keeps its earlier entry', async () => {
    const { memory, mm, devices, fd } = await system({ devicePages: 1 });
    const fd1 = await devices[1]!.open(mm);
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.read(addr, 2);
    await fd1.read(addr, 2);
    const before = fd.ctx.entryAt(addr + PAGE_SIZE);
    // one device page: page 0 moves, page 1 stays; fd's entry for page 1 was never erased,
    // so the read back finds both and succeeds, as test_hmm's does
    const r = await fd.migrateToDevice(addr, 2);
    expect(r.cpages).toBe(2);
    expectBytes(r.data, ints(2));
    expect(fd.ctx.entryAt(addr)?.pfn).toBe(devices[0]!.pagemap.firstPfn);
    expect(fd.ctx.entryAt(addr + PAGE_SIZE)).toEqual(before);
    // another device's MIGRATE erases: fd1 lost both entries
    expect(fd1.ctx.entryAt(addr)).toBeUndefined();
    expect(fd1.ctx.entryAt(addr + PAGE_SIZE)).toBeUndefined();
    checkAll(memory, devices);
  });

  it('refuses a non-blockable invalidation while its mutex is held (trylock) and the reaper retries', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.read(addr, 2);
    expect(fd.mutex.trylock()).toBe(true);
    expect(await oomReap(mm)).toBe(false);
    expect(fd.ctx.entryAt(addr)).toBeDefined();
    fd.mutex.unlock();
    expect(await oomReap(mm)).toBe(true);
    expect(fd.ctx.entryAt(addr)).toBeUndefined();
    checkAll(memory, devices);
  });

  it('the release pass at exit drops every entry; ioctls then fail with EINVAL and close still works', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.read(addr, 2);
    await fd.migrateToDevice(addr, 1);
    await mm.exit();
    expect(mappedIn(fd, addr, 2)).toBe(0);
    expect(devices[0]!.freePages).toBe(256);
    await expect(fd.read(addr, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fd.migrateToDevice(addr, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await fd.close();
    checkAll(memory, devices);
    expect(memory.freePages).toBe(memory.totalPages);
  });

  it('close removes the notifier and drops the page table; the pages stay with the process', async () => {
    const { memory, mm, devices, fd } = await system();
    const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
    await mm.write(addr, ints(2));
    await fd.migrateToDevice(addr, 2);
    await fd.close();
    expect(fd.closed).toBe(true);
    expect(fd.ctx.closed).toBe(true);
    // migrate_to_ram still works for pages whose file is gone
    expectBytes(await mm.read(addr, 2 * PAGE_SIZE), ints(2));
    checkAll(memory, devices);
  });
});
