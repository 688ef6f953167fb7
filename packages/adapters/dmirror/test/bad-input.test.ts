import { Dmirror, DmirrorDevice, KernelError } from '@hmmkit/adapter-dmirror';
import { MAP_ANONYMOUS, MAP_PRIVATE, Mm, PhysicalMemory } from '@hmmkit/mm';
import { describe, expect, it } from 'vitest';
import { ANON, PAGE_SIZE, RW, system } from './helpers.js';

type Ioctl = (fd: Dmirror, addr: number, npages: number) => Promise<unknown>;

const IOCTLS: Record<string, Ioctl> = {
  read: (fd, a, n) => fd.read(a, n),
  write: (fd, a, n) => fd.write(a, new Uint8Array(Math.max(0, n) * PAGE_SIZE)),
  migrateToDevice: (fd, a, n) => fd.migrateToDevice(a, n),
  migrateToSystem: (fd, a, n) => fd.migrateToSystem(a, n),
  snapshot: (fd, a, n) => fd.snapshot(a, n),
  exclusive: (fd, a, n) => fd.exclusive(a, n),
  checkExclusive: (fd, a, n) => fd.checkExclusive(a, n),
};

/** The errno a rejected promise or a throwing call carries, or 'none'. */
async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'none';
  } catch (e) {
    expect(e).toBeInstanceOf(KernelError);
    return (e as KernelError).code;
  }
}

describe('bad input to every ioctl', () => {
  for (const [name, call] of Object.entries(IOCTLS)) {
    it(`${name}: unaligned, empty, negative, fractional or wrapping ranges are EINVAL`, async () => {
      const { mm, fd } = await system();
      const addr = await mm.mmap(2 * PAGE_SIZE, RW, ANON);
      expect(await codeOf(call(fd, addr + 1, 1))).toBe('EINVAL');
      if (name !== 'write') expect(await codeOf(call(fd, addr, 0))).toBe('EINVAL');
      expect(await codeOf(call(fd, -PAGE_SIZE, 1))).toBe('EINVAL');
      expect(await codeOf(call(fd, addr + 0.5, 1))).toBe('EINVAL');
      expect(await codeOf(call(fd, Number.NaN, 1))).toBe('EINVAL');
      if (name !== 'write') {
        expect(await codeOf(call(fd, addr, -1))).toBe('EINVAL');
        expect(await codeOf(call(fd, addr, 1.5))).toBe('EINVAL');
        // addr + (npages << PAGE_SHIFT) wraps past 2^64
        expect(await codeOf(call(fd, 2 ** 52, 2 ** 52))).toBe('EINVAL');
      }
    });

    it(`${name}: a closed file is EINVAL`, async () => {
      const { mm, fd } = await system();
      const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
      await fd.close();
      expect(await codeOf(call(fd, addr, 1))).toBe('EINVAL');
    });
  }

  it('an unmapped address is EFAULT for READ and WRITE, EINVAL for the migrations', async () => {
    const { fd } = await system();
    const addr = 0x10000000;
    expect(await codeOf(fd.read(addr, 1))).toBe('EFAULT');
    expect(await codeOf(fd.write(addr, new Uint8Array(PAGE_SIZE)))).toBe('EFAULT');
    expect(await codeOf(fd.migrateToDevice(addr, 1))).toBe('EINVAL');
    expect(await codeOf(fd.migrateToSystem(addr, 1))).toBe('EINVAL');
    expect(await codeOf(fd.exclusive(addr, 1))).toBe('EFAULT');
  });

  it('a bounce buffer too large to allocate is ENOMEM', async () => {
    const { mm, fd } = await system();
    const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
    expect(await codeOf(fd.read(addr, 2 ** 20))).toBe('ENOMEM');
    expect(await codeOf(fd.snapshot(addr, 2 ** 31))).toBe('ENOMEM');
  });

  it('write: data that is not a Uint8Array is EFAULT, a partial page EINVAL', async () => {
    const { mm, fd } = await system();
    const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
    expect(await codeOf(fd.write(addr, [1, 2] as unknown as Uint8Array))).toBe('EFAULT');
    expect(await codeOf(fd.write(addr, new Uint8Array(100)))).toBe('EINVAL');
    expect(await codeOf(fd.write(addr, new Uint8Array(0)))).toBe('EINVAL');
  });

  it('release and close on a closed file are EINVAL', async () => {
    const { fd } = await system();
    await fd.close();
    expect(await codeOf(fd.release())).toBe('EINVAL');
    expect(await codeOf(fd.close())).toBe('EINVAL');
  });

  it('mmapDeviceFile: bad npages, MAP_ANONYMOUS, a foreign mm or a closed file are EINVAL', async () => {
    const { mm, fd } = await system();
    expect(await codeOf(fd.mmapDeviceFile(mm, 0, RW, MAP_PRIVATE))).toBe('EINVAL');
    expect(await codeOf(fd.mmapDeviceFile(mm, 1.5, RW, MAP_PRIVATE))).toBe('EINVAL');
    expect(await codeOf(fd.mmapDeviceFile(mm, 1, RW, MAP_PRIVATE | MAP_ANONYMOUS))).toBe('EINVAL');
    const other = Mm.create(new PhysicalMemory({ pages: 8 }));
    expect(await codeOf(fd.mmapDeviceFile(other, 1, RW, MAP_PRIVATE))).toBe('EINVAL');
    expect(await codeOf(fd.mmapDeviceFile({} as Mm, 1, RW, MAP_PRIVATE))).toBe('EINVAL');
    await fd.close();
    expect(await codeOf(fd.mmapDeviceFile(mm, 1, RW, MAP_PRIVATE))).toBe('EINVAL');
  });
});

describe('bad input to the device', () => {
  it('create: a bad memory, kind or page count is EINVAL', async () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const bad: unknown[] = [
      () => DmirrorDevice.create({} as PhysicalMemory, { kind: 'private' }),
      () => DmirrorDevice.create(memory, null as unknown as { kind: 'private' }),
      () => DmirrorDevice.create(memory, { kind: 'shared' as 'private' }),
      () => DmirrorDevice.create(memory, { kind: 'private', pages: 0 }),
      () => DmirrorDevice.create(memory, { kind: 'private', pages: 1.5 }),
      () => DmirrorDevice.create(memory, { kind: 'coherent', pages: 2 ** 27 }),
      () => DmirrorDevice.createAll(memory, -1),
    ];
    for (const f of bad) expect(await codeOf(f as () => unknown)).toBe('EINVAL');
  });

  it('open: something other than an Mm of the same memory, or an exited one, is EINVAL', async () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const dev = DmirrorDevice.create(memory, { kind: 'private', pages: 4 });
    expect(await codeOf(dev.open({} as Mm))).toBe('EINVAL');
    expect(await codeOf(dev.open(Mm.create(new PhysicalMemory({ pages: 8 }))))).toBe('EINVAL');
    const mm = Mm.create(memory);
    expect(await codeOf(Dmirror.open({} as DmirrorDevice, mm))).toBe('EINVAL');
    expect(await codeOf(Dmirror.open(dev, {} as Mm))).toBe('EINVAL');
    await mm.exit();
    expect(await codeOf(dev.open(mm))).toBe('EINVAL');
  });

  it('createAll makes two private and two coherent devices, each its own pgmap owner', () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const devs = DmirrorDevice.createAll(memory, 4);
    expect(devs.map((d) => d.kind)).toEqual(['private', 'private', 'coherent', 'coherent']);
    expect(devs.map((d) => d.pagemap.owner)).toEqual(devs);
    expect(devs.every((d) => d.freePages === 4)).toBe(true);
  });
});
