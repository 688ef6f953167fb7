import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PteKind,
  reclaimPage,
  rmapWalk,
} from '../src/index.js';
import { ANON, anonSetup, fill, kindAt, pfnAt, RW, recordNotifiers } from './helpers.js';

const setup = () => anonSetup(2, 2, 6, 0x10000000);

describe('mremap', () => {
  it('moves a mapping: UNMAP around the entry move, flush before end, then the old range unmapped', async () => {
    const { memory, mm, a } = await setup();
    await mm.mmap(4096, RW, ANON, { addr: a + 8192 });
    const pfn = pfnAt(mm, a);
    const log = await recordNotifiers(mm, a);
    const b = await mm.mremap(a, 8192, 4 * 4096, MREMAP_MAYMOVE);
    expect(b).not.toBe(a);
    expect(log.map((r) => [r.op, r.event, r.start, r.end, r.probeKind])).toEqual([
      ['start', MmuNotifierEvent.UNMAP, a, a + 8192, PteKind.PRESENT],
      ['arch', -1, a, a + 8192, PteKind.NONE],
      ['end', MmuNotifierEvent.UNMAP, a, a + 8192, PteKind.NONE],
      ['start', MmuNotifierEvent.UNMAP, a, a + 8192, PteKind.NONE],
      ['end', MmuNotifierEvent.UNMAP, a, a + 8192, PteKind.NONE],
    ]);
    expect(pfnAt(mm, b)).toBe(pfn);
    expect((await mm.read(b + 4096, 1))[0]).toBe(6);
    expect((await mm.read(b + 3 * 4096, 1))[0]).toBe(0);
    await expect(mm.read(a, 1)).rejects.toMatchObject({ code: 'EFAULT' });
    expect(rmapWalk(memory, pfn).map((h) => h.address)).toEqual([b]);
    expect(await reclaimPage(memory, pfn)).toBe(true);
    expect(kindAt(mm, b)).toBe(PteKind.SWAP);
    assertInvariants(memory);
  });

  it('shrinks by unmapping the tail and grows in place when the space is free', async () => {
    const { memory, mm, a } = await setup();
    expect(await mm.mremap(a, 8192, 4096, 0)).toBe(a);
    expect(memory.freePages).toBe(63);
    expect(await mm.mremap(a, 4096, 3 * 4096, 0)).toBe(a);
    expect(mm.vmaLookup(a)!.end).toBe(a + 3 * 4096);
    expect((await mm.read(a + 4096, 1))[0]).toBe(0);
    assertInvariants(memory);
  });

  it('MREMAP_FIXED moves to the given address, replacing what was there', async () => {
    const { memory, mm, a } = await setup();
    const target = 0x20000000;
    await mm.mmap(4096, RW, ANON, { addr: target });
    await mm.write(target, fill(1, 9));
    expect(await mm.mremap(a, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, target)).toBe(target);
    expect((await mm.read(target, 1))[0]).toBe(6);
    expect(memory.freePages).toBe(62);
    assertInvariants(memory);
  });

  it('a moved private mapping still shares COW pages with a forked child', async () => {
    const { memory, mm, a } = await setup();
    const child = await mm.fork();
    const b = await mm.mremap(a, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, 0x30000000);
    await mm.write(b, fill(1, 1));
    expect((await child.read(a, 1))[0]).toBe(6);
    expect((await mm.read(b, 2))[1]).toBe(6);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    expect(memory.freePages).toBe(64);
  });

  it('rejects bad arguments with the kernel errno', async () => {
    const { mm, a } = await setup();
    await mm.mmap(4096, RW, ANON, { addr: a + 8192 });
    await expect(mm.mremap(a + 1, 4096, 4096, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mremap(a, 4096, 0, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mremap(a, 4096, 4096, 0x80)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(mm.mremap(a, 4096, 4096, MREMAP_FIXED, 0x30000000)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(
      mm.mremap(a, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, a + 4096),
    ).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(mm.mremap(a, 3 * 4096, 4096, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.mremap(0x50000000, 4096, 4096, 0)).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(mm.mremap(a, 8192, 5 * 4096, 0)).rejects.toMatchObject({ code: 'ENOMEM' });
    await expect(mm.mremap(a, 4096, 4096, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)).rejects.toMatchObject(
      {
        code: 'EOPNOTSUPP',
      },
    );
  });
});
