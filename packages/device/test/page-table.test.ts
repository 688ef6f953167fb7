import { PhysicalMemory } from '@hmmkit/mm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DevicePageTable } from '../src/device-page-table.js';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, Device } from '../src/index.js';
import { DeviceTlb } from '../src/tlb.js';

const RW = DEVICE_PTE_READ | DEVICE_PTE_WRITE;

describe('DevicePageTable', () => {
  it('stores pfn and perms per page, READ always implied, and reports the previous entry', () => {
    const pt = new DevicePageTable();
    expect(pt.set(5, 77, DEVICE_PTE_WRITE)).toBe(0);
    expect(pt.get(5)).toBe(77 * 8 + RW);
    expect(pt.set(5, 78, DEVICE_PTE_READ)).toBe(77 * 8 + RW);
    expect(pt.size).toBe(1);
  });

  it('clears a half-open range across chunks and counts what it removed', () => {
    const pt = new DevicePageTable();
    for (const vpn of [0, 511, 512, 1023, 1024, 2 ** 34]) pt.set(vpn, vpn % 1000, RW);
    const seen: number[] = [];
    expect(pt.clear(511, 1024, (vpn) => seen.push(vpn))).toBe(3);
    expect(seen).toEqual([511, 512, 1023]);
    expect(pt.clear(0, 2 ** 35)).toBe(3);
    expect(pt.size).toBe(0);
  });

  it('agrees with a naive Map under random set/clear/get sequences (seeded)', () => {
    const op = fc.oneof(
      fc.record({
        k: fc.constant('set' as const),
        vpn: fc.integer({ min: 0, max: 3000 }),
        pfn: fc.integer({ min: 0, max: 2 ** 28 }),
        perms: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({
        k: fc.constant('clear' as const),
        a: fc.integer({ min: 0, max: 3000 }),
        n: fc.integer({ min: 0, max: 1200 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const pt = new DevicePageTable();
        const naive = new Map<number, number>();
        for (const o of ops) {
          if (o.k === 'set') {
            pt.set(o.vpn, o.pfn, o.perms);
            naive.set(o.vpn, o.pfn * 8 + (o.perms | 1));
          } else {
            let n = 0;
            for (const v of [...naive.keys()])
              if (v >= o.a && v < o.a + o.n && naive.delete(v)) n++;
            if (pt.clear(o.a, o.a + o.n) !== n) return false;
          }
          if (pt.size !== naive.size) return false;
        }
        for (let v = 0; v <= 3000; v++) if (pt.get(v) !== (naive.get(v) ?? 0)) return false;
        const all: number[] = [];
        pt.forEach((v) => {
          all.push(v);
        });
        const keys = [...naive.keys()].sort((x, y) => x - y);
        return all.sort((x, y) => x - y).join() === keys.join();
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});

describe('DeviceTlb', () => {
  it('caches until flushed, direct-mapped: two pages on one slot evict each other', () => {
    const tlb = new DeviceTlb(4);
    tlb.fill(1, 100);
    expect(tlb.lookup(1)).toBe(100);
    tlb.fill(5, 200);
    expect(tlb.lookup(1)).toBe(0);
    expect(tlb.lookup(5)).toBe(200);
    expect([tlb.hits, tlb.misses]).toEqual([2, 1]);
  });

  it('a range flush drops only the pages in the range, small or larger than the TLB', () => {
    const tlb = new DeviceTlb(8);
    for (let v = 0; v < 8; v++) tlb.fill(v, v + 1);
    tlb.flushRange(2, 4);
    expect(tlb.used).toBe(6);
    expect(tlb.lookup(2)).toBe(0);
    tlb.flushRange(5, 1000);
    expect(tlb.used).toBe(3);
    expect(tlb.lookup(4)).toBe(5);
    tlb.flushAll();
    expect(tlb.used).toBe(0);
    expect(tlb.flushes).toBe(3);
  });

  it('the DMA path keeps using a cached entry after the page table changed, until a flush', async () => {
    const memory = new PhysicalMemory({ pages: 8 });
    const [a, b] = [memory.allocPage(), memory.allocPage()];
    memory.writePage(a, 0, new Uint8Array([1]), 0, 1);
    memory.writePage(b, 0, new Uint8Array([2]), 0, 1);
    const ctx = new Device(memory).open();
    ctx.map(0x10000, a, RW);
    expect(await ctx.dmaRead(0x10000, 1)).toEqual(new Uint8Array([1]));
    ctx.map(0x10000, b, RW);
    expect(await ctx.dmaRead(0x10000, 1)).toEqual(new Uint8Array([1]));
    ctx.flushTlb(0x10000, 0x11000);
    expect(await ctx.dmaRead(0x10000, 1)).toEqual(new Uint8Array([2]));
  });
});
