import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_LONGTERM,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  MADV_HUGEPAGE,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  PMD_SIZE,
  PROT_NONE,
  PROT_READ,
  ZERO_PFN,
} from '../src/index.js';
import { ANON, anonSetup, fill, pfnAt, RW } from './helpers.js';

const setup = () => anonSetup(4);

describe('get_user_pages / pin_user_pages', () => {
  it('a read GUP of untouched memory returns the zero page', async () => {
    const { mm, a } = await setup();
    const refs = await mm.getUserPages(a, 2, 0);
    expect(refs.map((r) => r.pfn)).toEqual([ZERO_PFN, ZERO_PFN]);
    for (const r of refs) r.release();
  });

  it('FOLL_WRITE faults pages in writable and breaks COW', async () => {
    const { mm, a, memory } = await setup();
    await mm.write(a, fill(1, 4));
    const child = await mm.fork();
    const [ref] = await child.getUserPages(a, 1, FOLL_WRITE);
    expect(ref!.pfn).not.toBe(pfnAt(mm, a));
    expect(ref!.pfn).toBe(pfnAt(child, a));
    expect(memory.refcount[ref!.pfn]).toBe(2);
    ref!.release();
    assertInvariants(memory);
  });

  it('a pinned page outlives munmap and is freed by the unpin', async () => {
    const { mm, a, memory } = await setup();
    await mm.write(a, fill(4096, 8));
    const [pin] = await mm.pinUserPages(a, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(memory.pincount[pin!.pfn]).toBe(1);
    await mm.munmap(a, 4 * 4096);
    expect(memory.freePages).toBe(63);
    const buf = new Uint8Array(1);
    memory.readPage(pin!.pfn, 0, buf, 0, 1);
    expect(buf[0]).toBe(8);
    assertInvariants(memory);
    pin!.release();
    expect(memory.freePages).toBe(64);
    expect(() => pin!.release()).toThrow(/already released/);
  });

  it('a read pin of a page shared after fork unshares it first', async () => {
    const { mm, a, memory } = await setup();
    await mm.write(a, fill(1, 4));
    const child = await mm.fork();
    const shared = pfnAt(mm, a);
    const [pin] = await child.pinUserPages(a, 1, 0);
    expect(pin!.pfn).not.toBe(shared);
    expect((await child.read(a, 1))[0]).toBe(4);
    pin!.release();
    assertInvariants(memory);
  });

  it('fails with EFAULT on holes, PROT_NONE and read-only write requests, and returns partial results', async () => {
    const { mm, a } = await setup();
    const none = await mm.mmap(4096, PROT_NONE, ANON);
    const ro = await mm.mmap(4096, PROT_READ, ANON);
    await expect(mm.getUserPages(a + 4096 * 1000, 1, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.getUserPages(none, 1, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.getUserPages(ro, 1, FOLL_WRITE)).rejects.toMatchObject({ code: 'EFAULT' });
    const forced = await mm.getUserPages(ro, 1, FOLL_WRITE | FOLL_FORCE);
    expect(forced).toHaveLength(1);
    forced[0]!.release();
    const partial = await mm.getUserPages(a + 3 * 4096, 3, 0);
    expect(partial).toHaveLength(1);
    partial[0]!.release();
  });

  it('rejects bad arguments', async () => {
    const { mm, a } = await setup();
    await expect(mm.getUserPages(a, -1, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.getUserPages(a, 1, 0x80000)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.pinUserPages(a, 1.5, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.getUserPages(2 ** 47 - 4096, 2, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    expect(await mm.getUserPages(a, 0, 0)).toEqual([]);
  });
});

describe('GUP with the mmap_lock held by the caller', () => {
  it('getUserPagesLocked asserts the lock and FOLL_SPLIT_PMD splits a THP first', async () => {
    const memory = new PhysicalMemory({ pages: 2048 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(PMD_SIZE, RW, ANON, { addr: 0x40000000 });
    await mm.madvise(a, PMD_SIZE, MADV_HUGEPAGE);
    await mm.write(a, fill(1, 1));
    await expect(mm.getUserPagesLocked(a, 1, FOLL_WRITE)).rejects.toThrow();
    await mm.mmapLock.downRead();
    const [ref] = await mm.getUserPagesLocked(a + 4096, 1, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD);
    const [pin] = await mm.pinUserPagesLocked(a, 1, FOLL_WRITE);
    mm.mmapLock.upRead();
    const w = new PageTableWalker(mm);
    w.reset(a, a + 4096);
    w.next();
    expect(w.order).toBe(0);
    expect(ref!.pfn).toBe(pin!.pfn + 1);
    ref!.release();
    pin!.release();
    await expect(mm.pinUserPages(a, 1, FOLL_GET)).rejects.toMatchObject({ code: 'EINVAL' });
    assertInvariants(memory);
  });
});
