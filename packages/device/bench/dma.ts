/**
 * DMA throughput through the device's translation path (TLB + page table on typed arrays,
 * stale-translation check against the CPU page table) against a naive device that keeps one
 * object per page in a Map, has no TLB, and allocates a page-table walker per checked page.
 * Every variant reads the same pages of the same process; the byte copy is the same code.
 *
 * Run: pnpm bench   (node --conditions=@hmmkit/source --import tsx bench/dma.ts)
 */
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PageTableWalker,
  PhysicalMemory,
  PteKind,
} from '@hmmkit/mm';
import { Device, type DeviceContext } from '../src/index.js';

const PAGES = 1024;
const CHUNK = 64; // pages per DMA call

interface NaivePte {
  pfn: number;
  perms: number;
}

async function setup() {
  const memory = new PhysicalMemory({ pages: PAGES + 64 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PAGES * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new Uint8Array(PAGES * PAGE_SIZE).fill(1));
  const w = new PageTableWalker(mm);
  const pfns: number[] = [];
  w.reset(addr, addr + PAGES * PAGE_SIZE);
  while (w.next()) pfns.push(w.pfn);
  return { memory, mm, addr, pfns };
}

function program(ctx: DeviceContext, addr: number, pfns: number[]): void {
  pfns.forEach((pfn, i) => {
    ctx.map(addr + i * PAGE_SIZE, pfn, 3);
  });
}

/** The naive device: a Map of page objects, no TLB, a new walker per checked page. */
function naiveRead(
  pt: Map<number, NaivePte>,
  mm: Mm,
  memory: PhysicalMemory,
  va: number,
  out: Uint8Array,
): void {
  for (let done = 0; done < out.length; done += PAGE_SIZE) {
    const pte = pt.get(Math.floor((va + done) / PAGE_SIZE));
    if (pte === undefined) throw new Error('fault');
    const w = new PageTableWalker(mm);
    w.reset(va + done, va + done + PAGE_SIZE);
    w.next();
    if (w.kind !== PteKind.PRESENT || w.pfn !== pte.pfn) throw new Error('stale');
    memory.readPage(pte.pfn, 0, out, done, PAGE_SIZE);
  }
}

/** Pages per second of `fn` over one 200 ms slice. */
async function slice(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  let pages = 0;
  while (process.hrtime.bigint() - t0 < 200_000_000n) {
    await fn();
    pages += CHUNK;
  }
  return pages / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Runs the variants in interleaved rounds (fair under a noisy machine); median per variant. */
async function compare(variants: Array<[string, () => Promise<void> | void]>): Promise<number[]> {
  for (const [, fn] of variants) for (let i = 0; i < 20; i++) await fn(); // warm-up
  const rates: number[][] = variants.map(() => []);
  for (let round = 0; round < 7; round++)
    for (const [i, [, fn]] of variants.entries()) rates[i]!.push(await slice(fn));
  return rates.map((r) => r.sort((x, y) => x - y)[3]!);
}

async function main(): Promise<void> {
  const { memory, mm, addr, pfns } = await setup();
  const checked = new Device(memory).open(mm);
  const unchecked = new Device(memory, { staleCheck: 'off' }).open(mm);
  program(checked, addr, pfns);
  program(unchecked, addr, pfns);
  const naive = new Map<number, NaivePte>();
  pfns.forEach((pfn, i) => {
    naive.set(Math.floor(addr / PAGE_SIZE) + i, { pfn, perms: 3 });
  });
  const out = new Uint8Array(CHUNK * PAGE_SIZE);
  let at = 0;
  const nextVa = () => {
    at = (at + CHUNK) % PAGES;
    return addr + at * PAGE_SIZE;
  };
  console.log(`DMA reads of ${CHUNK} pages over ${PAGES} mapped pages (node ${process.version})`);
  const [base, on, off] = await compare([
    ['naive (Map of objects, walker per page)', () => naiveRead(naive, mm, memory, nextVa(), out)],
    ['@hmmkit/device, stale check on (default)', () => checked.dmaReadInto(nextVa(), out)],
    ['@hmmkit/device, stale check off', () => unchecked.dmaReadInto(nextVa(), out)],
  ]);
  const rows: Array<[string, number]> = [
    ['naive (Map of objects, walker per page)', base!],
    ['@hmmkit/device, stale check on (default)', on!],
    ['@hmmkit/device, stale check off', off!],
  ];
  for (const [label, rate] of rows)
    console.log(
      `${label.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} pages/s (median of 7)`,
    );
  console.log(`ratio check on / naive:  ${(on! / base!).toFixed(2)}x`);
  console.log(`ratio check off / naive: ${(off! / base!).toFixed(2)}x`);
  console.log(`cost of the check: ${((1 - on! / off!) * 100).toFixed(0)}% of the unchecked rate`);
}

await main();
