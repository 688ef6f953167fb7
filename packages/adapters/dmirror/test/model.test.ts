import { assertInvariants, PROT_READ } from '@hmmkit/mm';
import { isKernelError } from '@hmmkit/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANON, PAGE_SIZE, RW, system } from './helpers.js';

const NPAGES = 8;

/** One operation of a random sequence over an 8-page anonymous mapping and two devices. */
type Op =
  | { op: 'cpuWrite' | 'devWrite'; page: number; value: number; dev: number }
  | { op: 'devRead' | 'toDev' | 'toSys' | 'exclusive' | 'protect'; page: number; dev: number }
  | { op: 'release' | 'snapshot'; dev: number };

const page = fc.integer({ min: 0, max: NPAGES - 1 });
const dev = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom('cpuWrite', 'devWrite'),
    page,
    value: fc.integer({ min: 1, max: 255 }),
    dev,
  }),
  fc.record({
    op: fc.constantFrom('devRead', 'toDev', 'toSys', 'exclusive', 'protect'),
    page,
    dev,
  }),
  fc.record({ op: fc.constantFrom('release', 'snapshot'), dev }),
) as fc.Arbitrary<Op>;

/** Tolerates the errno the kernel gives for this op when the page is not where it asked. */
async function tolerate(p: Promise<unknown>, codes: string[]): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isKernelError(e) || !codes.includes(e.code)) throw e;
  }
}

describe('random operation sequences against a per-page model', () => {
  it('CPU and every device always read what was last written, and all invariants hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const { memory, mm, devices, fd } = await system({ devicePages: 16 });
        const fds = [fd, ...(await Promise.all(devices.slice(1).map((d) => d.open(mm))))];
        const addr = await mm.mmap(NPAGES * PAGE_SIZE, RW, ANON);
        const model = new Uint8Array(NPAGES);
        const va = (p: number) => addr + p * PAGE_SIZE;
        for (const o of ops) {
          const f = fds[o.dev]!;
          switch (o.op) {
            case 'cpuWrite':
              await mm.write(va(o.page), new Uint8Array(PAGE_SIZE).fill(o.value));
              model[o.page] = o.value;
              break;
            case 'devWrite':
              await f.write(va(o.page), new Uint8Array(PAGE_SIZE).fill(o.value));
              model[o.page] = o.value;
              break;
            case 'devRead': {
              const r = await f.read(va(o.page), 1);
              expect(r.data?.every((b) => b === model[o.page])).toBe(true);
              break;
            }
            case 'toDev':
              await tolerate(f.migrateToDevice(va(o.page), 1), ['ENOENT']);
              break;
            case 'toSys':
              await f.migrateToSystem(va(o.page), 1);
              break;
            case 'exclusive':
              await f.exclusive(va(o.page), 1);
              break;
            case 'protect':
              await mm.mprotect(va(o.page), PAGE_SIZE, PROT_READ);
              await mm.mprotect(va(o.page), PAGE_SIZE, RW);
              break;
            case 'release':
              await f.release();
              break;
            case 'snapshot':
              expect((await f.snapshot(addr, NPAGES)).length).toBe(NPAGES);
              break;
          }
          assertInvariants(memory);
          for (const d of devices) expect(d.hw.checkInvariants()).toEqual([]);
        }
        const cpu = await mm.read(addr, NPAGES * PAGE_SIZE);
        for (let p = 0; p < NPAGES; p++) expect(cpu[p * PAGE_SIZE + 17]).toBe(model[p]);
        for (const f of fds) await f.close();
        await mm.exit();
        assertInvariants(memory);
        expect(memory.freePages).toBe(memory.totalPages);
        for (const d of devices) expect(d.freePages).toBe(16);
      }),
      { seed: 20261122, numRuns: 100 },
    );
  });
});
