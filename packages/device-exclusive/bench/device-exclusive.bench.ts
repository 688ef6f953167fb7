/**
 * Cost of device exclusivity per page on a populated 64 MiB range (16384 pages), against the
 * floor of the same work without it, in the same run:
 * - take: makeDeviceExclusive() + unlock() + put() per page, against a write GUP + release
 *   per page (getUserPages(FOLL_WRITE): the fault-in step alone, no notifier, no conversion);
 * - revoke: a CPU write fault restoring each exclusive entry (page lock, MMU_NOTIFY_CLEAR,
 *   restore), against a write fault on a present writable PTE (only the accessed/dirty update).
 * Run: pnpm bench (node --conditions=@hmmkit/source --import tsx bench/device-exclusive.bench.ts)
 */

import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import {
  FAULT_FLAG_WRITE,
  FOLL_WRITE,
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';

const PAGES = 16384;
const LEN = PAGES * PAGE_SIZE;
const ROUNDS = 3;

async function populated(): Promise<{ mm: Mm; addr: number }> {
  const memory = new PhysicalMemory({ pages: PAGES + 16 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(
    LEN,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
  );
  return { mm, addr };
}

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function takeExclusive(mm: Mm, addr: number): Promise<void> {
  await mm.mmapLock.downRead();
  for (let a = addr; a < addr + LEN; a += PAGE_SIZE) {
    const page = await makeDeviceExclusive(mm, a, 'bench');
    page.unlock();
    page.put();
  }
  mm.mmapLock.upRead();
}

async function takeGup(mm: Mm, addr: number): Promise<void> {
  for (let a = addr; a < addr + LEN; a += PAGE_SIZE)
    for (const r of await mm.getUserPages(a, 1, FOLL_WRITE)) r.release();
}

async function writeFaults(mm: Mm, addr: number): Promise<void> {
  await mm.mmapLock.downRead();
  for (let a = addr; a < addr + LEN; a += PAGE_SIZE) await mm.handleMmFault(a, FAULT_FLAG_WRITE);
  mm.mmapLock.upRead();
}

async function main(): Promise<void> {
  const best = { take: Infinity, gup: Infinity, revoke: Infinity, fault: Infinity };
  for (let i = 0; i < ROUNDS; i++) {
    const x = await populated();
    best.take = Math.min(best.take, await timeIt(() => takeExclusive(x.mm, x.addr)));
    best.revoke = Math.min(best.revoke, await timeIt(() => writeFaults(x.mm, x.addr)));
    best.fault = Math.min(best.fault, await timeIt(() => writeFaults(x.mm, x.addr)));
    await x.mm.exit();
    const y = await populated();
    best.gup = Math.min(best.gup, await timeIt(() => takeGup(y.mm, y.addr)));
    await y.mm.exit();
  }
  const rate = (ms: number) => `${(((PAGES / ms) * 1000) / 1e6).toFixed(3)} M pages/s`;
  const rows = [
    [
      'take: makeDeviceExclusive + unlock + put',
      rate(best.take),
      'write GUP + release',
      rate(best.gup),
      (best.gup / best.take).toFixed(2),
    ],
    [
      'revoke: CPU write fault on the entry',
      rate(best.revoke),
      'write fault on a present PTE',
      rate(best.fault),
      (best.fault / best.revoke).toFixed(2),
    ],
  ];
  console.log(`node ${process.version}, ${PAGES} pages, best of ${ROUNDS}`);
  console.log('| operation | @hmmkit/device-exclusive | baseline | baseline rate | ratio |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')}x |`);
}

await main();
