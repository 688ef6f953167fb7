/**
 * Device READ throughput: pages/s of HMM_DMIRROR_READ over 256 pages, with every entry
 * present (copy through the device's DMA path and stale checker only) and after an
 * mprotect() invalidation each round (hmm_range_fault driver loop + programming + copy),
 * against the CPU reading the same pages with Mm.read() as the baseline. Best of 7,
 * cases interleaved.
 *
 * Run: pnpm bench
 */
import { DmirrorDevice } from '@hmmkit/adapter-dmirror';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';

const NPAGES = 256;
const ROUNDS = 40;
const RW = PROT_READ | PROT_WRITE;

const memory = new PhysicalMemory({ pages: 4096 });
const mm = Mm.create(memory);
const fd = await DmirrorDevice.create(memory, { kind: 'private', pages: 16 }).open(mm);
const addr = await mm.mmap(NPAGES * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS);
await mm.write(addr, new Uint8Array(NPAGES * PAGE_SIZE).fill(7));

/** Pages/s of one round of `fn`, ROUNDS times. */
async function rate(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < ROUNDS; i++) await fn();
  return (ROUNDS * NPAGES) / ((performance.now() - t) / 1000);
}

const cases: Record<string, () => Promise<void>> = {
  cpu: async () => {
    await mm.read(addr, NPAGES * PAGE_SIZE);
  },
  mapped: async () => {
    await fd.read(addr, NPAGES);
  },
  faulting: async () => {
    await mm.mprotect(addr, NPAGES * PAGE_SIZE, PROT_READ);
    await mm.mprotect(addr, NPAGES * PAGE_SIZE, RW);
    await fd.read(addr, NPAGES);
  },
};
// Cases interleaved rep by rep, best of 7 each, so load on the shared machine hits all alike.
const best: Record<string, number> = { cpu: 0, mapped: 0, faulting: 0 };
for (let rep = 0; rep < 7; rep++)
  for (const [name, fn] of Object.entries(cases))
    best[name] = Math.max(best[name]!, await rate(fn));
const cpu = best.cpu!;
const mapped = best.mapped!;
const faulting = best.faulting!;
const row = (name: string, v: number) =>
  console.log(`| ${name} | ${Math.round(v).toLocaleString('en-US')} | ${(v / cpu).toFixed(2)}x |`);
console.log('| case | pages/s | vs CPU Mm.read |');
console.log('| --- | ---: | ---: |');
row('CPU Mm.read (baseline)', cpu);
row('dmirror READ, entries present', mapped);
row('dmirror READ after invalidation (fault path)', faulting);
