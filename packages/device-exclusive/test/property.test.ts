import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
} from '@hmmkit/mm';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { AtomicDevice, allFree, exclusiveEntries } from './device.js';
import { RW } from './helpers.js';

const PAGES = 3;

type Op =
  | { op: 'device'; dev: 0 | 1; page: number; delta: number }
  | { op: 'cpuWrite'; page: number; value: number }
  | { op: 'cpuRead'; page: number }
  | { op: 'mprotect'; page: number; writable: boolean }
  | { op: 'fork' };

const page = fc.integer({ min: 0, max: PAGES - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('device' as const),
    dev: fc.constantFrom(0 as const, 1 as const),
    page,
    delta: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    op: fc.constant('cpuWrite' as const),
    page,
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ op: fc.constant('cpuRead' as const), page }),
  fc.record({ op: fc.constant('mprotect' as const), page, writable: fc.boolean() }),
  fc.record({ op: fc.constant('fork' as const) }),
);

/** The CPU reads `want` on page `p`, and the read revoked every device's mapping of it. */
async function expectPage(mm: Mm, devs: AtomicDevice[], base: number, p: number, want: number) {
  const addr = base + p * PAGE_SIZE;
  const got = (await mm.read(addr, 1))[0];
  if (got !== want) throw new Error(`page ${p}: CPU reads ${got}, model ${want}`);
  for (const d of devs)
    if (d.atomic.has(addr)) throw new Error(`${d.name} kept its mapping of page ${p}`);
}

/**
 * Runs `ops` on a process with two atomic devices and checks the CPU view against a naive
 * model (one byte per page) on every CPU read and for every page at the end.
 */
async function run(ops: Op[]): Promise<void> {
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const base = await mm.mmap(PAGES * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS);
  const devs = [
    await AtomicDevice.open(mm, base, PAGES * PAGE_SIZE, 'a'),
    await AtomicDevice.open(mm, base, PAGES * PAGE_SIZE, 'b'),
  ];
  const model = new Uint8Array(PAGES);
  const writable = new Array<boolean>(PAGES).fill(true);
  for (const o of ops) {
    if (o.op === 'fork') {
      const child = await mm.fork();
      if (exclusiveEntries(child).length > 0) throw new Error('exclusive entry in a child');
      await child.exit();
      continue;
    }
    const addr = base + o.page * PAGE_SIZE;
    if (o.op === 'device' && writable[o.page]) {
      await devs[o.dev]!.atomicAdd(addr, o.delta, [devs[1 - o.dev]!]);
      model[o.page] = (model[o.page]! + o.delta) & 0xff;
    } else if (o.op === 'cpuWrite' && writable[o.page]) {
      await mm.write(addr, new Uint8Array([o.value]));
      model[o.page] = o.value;
    } else if (o.op === 'mprotect') {
      await mm.mprotect(addr, PAGE_SIZE, o.writable ? RW : 1);
      writable[o.page] = o.writable;
    }
    if (o.op === 'cpuRead') await expectPage(mm, devs, base, o.page, model[o.page]!);
  }
  for (let p = 0; p < PAGES; p++) await expectPage(mm, devs, base, p, model[p]!);
  assertInvariants(memory);
  await mm.exit();
  if (!allFree(memory)) throw new Error('frames leaked');
}

describe('random operation sequences against a byte model', () => {
  it('device atomics, CPU accesses, mprotect and fork never lose a byte (seeded)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 24 }), run), {
      seed: 20251122,
      numRuns: 150,
    });
  });
});
