import {
  DevicePagePool,
  HmmPfns,
  hmmRangeFault,
  hmmRangeFaultLoop,
  type MigrateVma,
  memremapPages,
  memunmapPages,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDeviceRange,
  migratePfn,
  migrateVmaPages,
  migrateVmaSetup,
} from '@hmmkit/hmm';
import { MAP_SHARED, Mm, PhysicalMemory, VM_IO } from '@hmmkit/mm';
import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { Mutex, RuntimeViolation } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeOf } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

async function world() {
  const { memory, mm } = machine();
  const addr = await mm.mmap(4 * PAGE, RW, ANON);
  const sub = await mirror(mm, addr, 4 * PAGE);
  return { memory, mm, addr, sub };
}

async function locked(mm: Mm, fn: () => Promise<unknown>): Promise<unknown> {
  await mm.mmapLock.downRead();
  try {
    return await fn();
  } catch (e) {
    return e;
  } finally {
    mm.mmapLock.upRead();
  }
}

describe('hmmRangeFault bad input', () => {
  const cases: [string, (r: ReturnType<typeof rangeOf>) => void, RegExp][] = [
    [
      'an unaligned start',
      (r) => {
        r.start += 1;
      },
      /range.start must be page aligned/,
    ],
    [
      'an unaligned end',
      (r) => {
        r.end -= 1;
      },
      /range.end must be page aligned/,
    ],
    [
      'end equal to start',
      (r) => {
        r.end = r.start;
      },
      /must be above range.start/,
    ],
    [
      'end below start',
      (r) => {
        r.end = r.start - PAGE;
      },
      /must be above range.start/,
    ],
    [
      'hmmPfns too short',
      (r) => {
        r.hmmPfns = new HmmPfns(1);
      },
      /holds 1 entries/,
    ],
    ['hmmPfns not an HmmPfns', (r) => void Object.assign(r, { hmmPfns: [] }), /HmmPfns/],
    [
      'flag bits beyond HMM_PFN_FLAGS',
      (r) => {
        r.defaultFlags = 1 << 11;
      },
      /defaultFlags/,
    ],
    [
      'a negative mask',
      (r) => {
        r.pfnFlagsMask = -1;
      },
      /pfnFlagsMask/,
    ],
    [
      'a sequence that is not a number',
      (r) => void Object.assign(r, { notifierSeq: 'x' }),
      /notifierSeq/,
    ],
  ];
  for (const [name, mutate, msg] of cases)
    it(`rejects ${name} with EINVAL`, async () => {
      const { mm, addr, sub } = await world();
      const r = rangeOf(sub, addr, addr + 4 * PAGE);
      mutate(r);
      const e = await locked(mm, () => hmmRangeFault(r));
      expect(e).toMatchObject({ code: 'EINVAL' });
      expect(String(e)).toMatch(msg);
    });

  it('rejects a notifier that does not watch an Mm with EINVAL', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0, PAGE, { invalidate: () => true });
    await expect(hmmRangeFault(rangeOf(sub, 0, PAGE))).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('rejects a non-object range with EINVAL', async () => {
    await expect(hmmRangeFault(null as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('asserts the mmap_lock is held (lockdep_assert_held)', async () => {
    const { addr, sub } = await world();
    await expect(hmmRangeFault(rangeOf(sub, addr, addr + PAGE))).rejects.toBeInstanceOf(
      RuntimeViolation,
    );
  });
});

describe('-EBUSY reaches the caller only through the notifier sequence', () => {
  it('a sequence that moved since readBegin gives EBUSY before any walk', async () => {
    const { mm, addr, sub } = await world();
    const r = rangeOf(sub, addr, addr + 4 * PAGE, { defaultFlags: 1 << 10 });
    r.notifierSeq = await sub.readBegin();
    await mm.munmap(addr + 3 * PAGE, PAGE);
    expect(await locked(mm, () => hmmRangeFault(r))).toMatchObject({ code: 'EBUSY' });
    expect(mm.pt.pteSlot(addr, false)).toBeLessThan(0);
  });

  it('faults and migration waits restart the walk internally without EBUSY', async () => {
    const { mm, addr, sub } = await world();
    await mm.write(addr + 2 * PAGE, new Uint8Array([1]));
    const r = rangeOf(sub, addr, addr + 4 * PAGE, { defaultFlags: 1 << 10 });
    r.notifierSeq = await sub.readBegin();
    expect(await locked(mm, () => hmmRangeFault(r))).toBeUndefined();
    expect(sub.readRetry(r.notifierSeq)).toBe(false);
  });
});

describe('hmmRangeFaultLoop bad input and timeout', () => {
  it('rejects missing options and a bad timeout with EINVAL', async () => {
    const { addr, sub } = await world();
    const r = rangeOf(sub, addr, addr + PAGE);
    const lock = new Mutex('drv');
    await expect(hmmRangeFaultLoop(r, { lock, program() {}, timeout: 0 })).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(hmmRangeFaultLoop(r, {} as never)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(
      hmmRangeFaultLoop({ ...r, notifier: {} as never }, { lock, program() {} }),
    ).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('gives up with EBUSY once the timeout (in attempts) is spent', async () => {
    const { mm, addr, sub } = await world();
    await mm.read(addr, PAGE); // zero page: the write fault is a COW that invalidates
    const r = rangeOf(sub, addr, addr + PAGE, { defaultFlags: (1 << 10) | (1 << 9) });
    await expect(
      hmmRangeFaultLoop(r, { lock: new Mutex('drv'), program() {}, timeout: 1 }),
    ).rejects.toMatchObject({ code: 'EBUSY' });
  });

  it('fails with EFAULT once the address space has no users', async () => {
    const { mm, addr, sub } = await world();
    await mm.exit();
    const r = rangeOf(sub, addr, addr + PAGE);
    await expect(
      hmmRangeFaultLoop(r, { lock: new Mutex('drv'), program() {} }),
    ).rejects.toMatchObject({ code: 'EFAULT' });
  });
});

describe('migrate bad input', () => {
  async function args(o: Partial<MigrateVma> = {}) {
    const { memory, mm, addr } = await world();
    const a: MigrateVma = {
      mm,
      vma: mm.vmaLookup(addr)!,
      start: addr,
      end: addr + 2 * PAGE,
      src: new Float64Array(2),
      dst: new Float64Array(2),
      cpages: 0,
      npages: 0,
      pgmapOwner: undefined,
      flags: 1,
      ...o,
    };
    return { memory, mm, addr, a };
  }

  const cases: [string, (a: MigrateVma) => void, RegExp][] = [
    [
      'an unaligned start',
      (a) => {
        a.start += 1;
      },
      /start must be page aligned/,
    ],
    [
      'an empty range',
      (a) => {
        a.end = a.start;
      },
      /must be above start/,
    ],
    [
      'a range beyond the VMA',
      (a) => {
        a.end = a.vma.end + PAGE;
      },
      /not inside the VMA/,
    ],
    [
      'a short src array',
      (a) => {
        a.src = new Float64Array(1);
      },
      /args.src/,
    ],
    [
      'a short dst array',
      (a) => {
        a.dst = new Float64Array(1);
      },
      /args.dst/,
    ],
    [
      'unknown select flags',
      (a) => {
        a.flags = 8;
      },
      /MIGRATE_VMA_SELECT/,
    ],
    [
      'a fault page that is not device-private',
      (a) => {
        a.faultPage = 1;
      },
      /faultPage/,
    ],
    [
      'a VM_IO VMA',
      (a) => {
        a.vma.flags |= VM_IO;
      },
      /VM_SPECIAL/,
    ],
    [
      'a VMA of another mm',
      (a) => {
        a.mm = Mm.create(a.mm.memory);
      },
      /VMA of args.mm/,
    ],
  ];
  for (const [name, mutate, msg] of cases)
    it(`migrateVmaSetup rejects ${name} with EINVAL`, async () => {
      const { mm, a } = await args();
      mutate(a);
      const e = await locked(mm, () => migrateVmaSetup(a));
      expect(e).toMatchObject({ code: 'EINVAL' });
      expect(String(e)).toMatch(msg);
    });

  it('migrateVmaSetup and migrateVmaPages assert the mmap_lock', async () => {
    const { a } = await args();
    await expect(migrateVmaSetup(a)).rejects.toBeInstanceOf(RuntimeViolation);
    await expect(migrateVmaPages(a)).rejects.toBeInstanceOf(RuntimeViolation);
  });

  it('migrateVmaSetup accepts a shared file VMA and selects none of its pages', async () => {
    const { memory, mm } = machine();
    const file = memory.createFile(PAGE);
    const addr = await mm.mmap(PAGE, RW, MAP_SHARED, { file });
    const a: MigrateVma = {
      mm,
      vma: mm.vmaLookup(addr)!,
      start: addr,
      end: addr + PAGE,
      src: new Float64Array(1),
      dst: new Float64Array(1),
      cpages: 0,
      npages: 0,
      pgmapOwner: undefined,
      flags: 1,
    };
    expect(await locked(mm, () => migrateVmaSetup(a))).toBeUndefined();
    expect(a.cpages).toBe(0);
  });

  it('the device-range calls reject bad memory, counts, arrays and pfns with EINVAL', async () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const dev = new TinyDevice(memory, 2);
    const a = new Float64Array(2);
    await expect(migrateDeviceRange({} as never, a, dev.firstPfn, 2)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(migrateDeviceRange(memory, a, 1, 2)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(migrateDeviceRange(memory, a, dev.firstPfn, 3)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    expect(() => migrateDevicePages(memory, a, new Float64Array(1), 2)).toThrow(/>= 2 entries/);
    expect(() => migrateDeviceFinalize(memory, a, a, -1)).toThrow(/npages/);
    expect(() => migratePfn(-1)).toThrow(/pfn must be/);
    expect(() => migratePfn(2 ** 31)).toThrow(/pfn must be/);
  });
});

describe('device memory pools reject bad input', () => {
  const pageFree = () => {};
  const migrateToRam = () => 0;

  it('memremapPages names the bad memory, type, nrPages, ops or owner (EINVAL)', () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const ok = {
      type: 'private',
      nrPages: 2,
      owner: 'd',
      ops: { pageFree, migrateToRam },
    } as const;
    const bad: [unknown, unknown, RegExp][] = [
      [{}, ok, /memory must be a PhysicalMemory/],
      [memory, null, /opts must be an object/],
      [memory, { ...ok, type: 'fsdax' }, /type must be 'private' or 'coherent', got fsdax/],
      [memory, { ...ok, nrPages: 0 }, /nrPages must be an integer .* got 0/],
      [memory, { ...ok, nrPages: 1.5 }, /nrPages .* got 1.5/],
      [memory, { ...ok, ops: null }, /ops must be an object/],
      [memory, { ...ok, ops: { migrateToRam } }, /pageFree must be a function, got undefined/],
      [memory, { ...ok, ops: { pageFree } }, /migrateToRam is required for a private pagemap/],
      [memory, { ...ok, owner: undefined }, /owner must be set, got undefined/],
      [memory, { ...ok, type: 'coherent', owner: null }, /owner must be set, got null/],
    ];
    for (const [m, o, re] of bad)
      expect(() => memremapPages(m as never, o as never)).toThrow(
        expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(re) }),
      );
    expect(memory.pagemaps).toEqual([]);
  });

  it('pageInit rejects a pfn outside the pagemap (EINVAL) and a page in use (EBUSY)', () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const pm = memremapPages(memory, {
      type: 'coherent',
      nrPages: 1,
      owner: 'd',
      ops: { pageFree },
    });
    expect(() => pm.pageInit(1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pm.pageInit(pm.firstPfn + 1)).toThrow(/is not in pagemap/);
    expect(() => pm.pageInit(Number.NaN)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    pm.pageInit(pm.firstPfn);
    expect(() => pm.pageInit(pm.firstPfn)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(pm.inUse).toBe(1);
  });

  it('memunmapPages rejects what is not a pagemap (EINVAL)', async () => {
    await expect(memunmapPages({} as never)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(memunmapPages(undefined as never)).rejects.toThrow(/must be a DevicePagemap/);
  });

  it('DevicePagePool names a bad opts or callback and passes memremap errors through (EINVAL)', () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const make = (o: unknown) => () => new DevicePagePool(memory, o as never);
    expect(make(undefined)).toThrow(/opts must be an object/);
    expect(make({ type: 'private', nrPages: 1, owner: 'd', migrateToRam: 1 })).toThrow(
      /opts.migrateToRam must be a function, got number/,
    );
    expect(make({ type: 'private', nrPages: 1, owner: 'd', onPageFree: 'x' })).toThrow(
      /opts.onPageFree must be a function, got string/,
    );
    expect(make({ type: 'private', nrPages: -1, owner: 'd' })).toThrow(/nrPages/);
    expect(make({ type: 'private', nrPages: 1 })).toThrow(/owner must be set/);
    expect(memory.pagemaps).toEqual([]);
  });
});
