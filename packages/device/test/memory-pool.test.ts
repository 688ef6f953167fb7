import { PAGE_SIZE, PhysicalMemory } from '@hmmkit/mm';
import { isKernelError, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, Device, type DeviceMemoryPool } from '../src/index.js';

const RW = DEVICE_PTE_READ | DEVICE_PTE_WRITE;

function setup() {
  const memory = new PhysicalMemory({ pages: 16 });
  const device = new Device(memory);
  return { memory, device };
}

/** Drops the reference allocPage() handed out (the page is locked, as a migrate destination). */
function freePage(memory: PhysicalMemory, pfn: number): void {
  memory.unlockPage(pfn);
  memory.putPage(pfn);
}

describe('device memory pools', () => {
  it('a device owns a private and a coherent pool: distinct pfn ranges, the device as owner', () => {
    const { memory, device } = setup();
    const priv = device.createPool({ type: 'private', nrPages: 4 });
    const coh = device.createPool({ type: 'coherent', nrPages: 2 });
    expect(device.pools).toEqual([priv, coh]);
    expect(priv.owner).toBe(device);
    expect(memory.pagemapOf(priv.firstPfn)?.type).toBe('private');
    expect(memory.pagemapOf(coh.firstPfn)?.type).toBe('coherent');
    expect(priv.contains(coh.firstPfn)).toBe(false);
    const p = priv.allocPage();
    expect(priv.contains(p) && !coh.contains(p)).toBe(true);
    expect(device.createPool({ type: 'private', nrPages: 1, owner: 'gpu0' }).owner).toBe('gpu0');
  });

  it('fdinfo vram is the pool pages charged to each client, until their page_free', () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 4 });
    const a = device.open();
    const b = device.open();
    const a1 = vram.allocPage(a);
    vram.allocPage(a);
    vram.allocPage(b);
    const uncharged = vram.allocPage();
    expect(device.fdinfo(a).memory.vram).toEqual({ total: 2 * PAGE_SIZE, resident: 2 * PAGE_SIZE });
    expect(device.fdinfo(b).memory.vram).toEqual({ total: PAGE_SIZE, resident: PAGE_SIZE });
    expect(device.showFdinfo(a)).toMatch(/drm-total-vram:\t8 KiB\ndrm-resident-vram:\t8 KiB/);
    expect(vram.nrUsed).toBe(4);
    expect(vram.allocPage(a)).toBe(-1);
    freePage(memory, a1);
    freePage(memory, uncharged);
    expect(device.fdinfo(a).memory.vram).toEqual({ total: PAGE_SIZE, resident: PAGE_SIZE });
    expect(device.fdinfo(b).memory.vram).toEqual({ total: PAGE_SIZE, resident: PAGE_SIZE });
    expect(vram.nrUsed).toBe(2);
  });

  it('a page mapped but charged to another client counts for its owner only, not for the mapper', () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 1 });
    const a = device.open();
    const b = device.open();
    const pfn = vram.allocPage(a);
    memory.unlockPage(pfn);
    b.map(0, pfn, RW);
    expect(b.residentBytes.vram).toBe(PAGE_SIZE);
    expect(device.fdinfo(b).memory.vram).toEqual({ total: 0, resident: 0 });
    expect(device.fdinfo(a).memory.vram).toEqual({ total: PAGE_SIZE, resident: PAGE_SIZE });
  });

  it('the device DMAs into its own coherent pool page and reports it once freed', async () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 1 });
    const ctx = device.open();
    const pfn = vram.allocPage(ctx);
    memory.unlockPage(pfn);
    ctx.map(0x10000, pfn, RW);
    await ctx.dmaWrite(0x10000, new Uint8Array([4, 5]));
    const out = new Uint8Array(2);
    memory.readPage(pfn, 0, out, 0, 2);
    expect(out).toEqual(new Uint8Array([4, 5]));
    memory.putPage(pfn);
    await expect(ctx.dmaRead(0x10000, 1)).rejects.toThrow(/the device page is free/);
  });

  it('removePool waits for a page the driver still holds, then the pool is gone', async () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 2 });
    const pfn = vram.allocPage();
    memory.unlockPage(pfn);
    memory.getPage(pfn); // a second driver reference: eviction cannot migrate the page away
    const removal = spawn('remove', () => device.removePool(vram));
    const driver = spawn('driver', async () => {
      while (vram.pool.pagemap.state === 'live') await schedulePoint(); // eviction runs
      expect(removal.done).toBe(false);
      expect(() => vram.allocPage()).toThrow(/pagemap is dying/);
      memory.putPage(pfn);
      memory.putPage(pfn);
    });
    await driver.join();
    await removal.join();
    expect(vram.pool.pagemap.state).toBe('dead');
    expect(device.pools).toEqual([]);
  });

  it('a removal that nothing can finish is a deadlock the runtime reports, not a hang', async () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 1 });
    const pfn = vram.allocPage();
    memory.unlockPage(pfn);
    memory.getPage(pfn); // leaked reference
    await expect(device.removePool(vram)).rejects.toMatchObject({ kind: 'deadlock' });
  });
});

describe('device memory pools reject bad input', () => {
  const einval = (f: () => unknown, re: RegExp) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL'), String(err)).toBe(true);
    expect(String(err)).toMatch(re);
  };

  it.each<[unknown, RegExp]>([
    [undefined, /Device.createPool: opts must be an object, got undefined/],
    [{ type: 'fsdax', nrPages: 1 }, /opts.type must be 'private' or 'coherent', got "fsdax"/],
    [{ type: 'private', nrPages: 0 }, /opts.nrPages must be an integer in \[1, 67108864\], got 0/],
    [{ type: 'private', nrPages: '2' }, /opts.nrPages .* got "2"/],
    [{ type: 'private', nrPages: 1, owner: null }, /opts.owner must be an owner cookie/],
    [{ type: 'private', nrPages: 1, migrateToRam: 3 }, /opts.migrateToRam must be a function/],
  ])('createPool rejects %o', (opts, re) => {
    const { device, memory } = setup();
    einval(() => device.createPool(opts as never), re);
    expect(device.pools).toEqual([]);
    expect(memory.pagemaps).toEqual([]);
  });

  it('allocPage rejects a client of another device or a closed client', async () => {
    const { memory, device } = setup();
    const vram = device.createPool({ type: 'coherent', nrPages: 2 });
    einval(() => vram.allocPage(new Device(memory).open()), /ctx must be an open client/);
    einval(() => vram.allocPage({} as never), /ctx must be an open client/);
    const ctx = device.open();
    await device.close(ctx);
    einval(() => vram.allocPage(ctx), /ctx must be an open client of this device/);
    expect(vram.nrUsed).toBe(0);
  });

  it('removePool rejects a pool of another device and a pool already removed', async () => {
    const { memory, device } = setup();
    const other: DeviceMemoryPool = new Device(memory).createPool({ type: 'coherent', nrPages: 1 });
    await expect(device.removePool(other)).rejects.toThrow(/pool must be a pool of this device/);
    await expect(device.removePool({} as never)).rejects.toMatchObject({ code: 'EINVAL' });
    const vram = device.createPool({ type: 'coherent', nrPages: 1 });
    await device.removePool(vram);
    await expect(device.removePool(vram)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
