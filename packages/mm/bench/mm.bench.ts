/**
 * Speed of the hot paths on a 1 GiB anonymous range (262144 pages): fault-in through the
 * MAP_POPULATE fault-around path and through one handleMmFault() per page, fork of the
 * populated range, munmap of it. Compared in the same run with a naive per-page-object model.
 * Run: pnpm bench (node --conditions=@hmmkit/source --import tsx bench/mm.bench.ts)
 */
import {
  FAULT_FLAG_WRITE,
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  Mm,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '../src/index.js';
import { NaiveMemory, NaiveMm } from './naive-mm.js';

const GIB = 1024 * 1024 * 1024;
const PAGES = GIB / 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const ROUNDS = 3;

interface Timings {
  faultIn: number;
  fork: number;
  munmap: number;
}

function now(): number {
  return performance.now();
}

async function runMm(perPageFaults: boolean): Promise<Timings> {
  const memory = new PhysicalMemory({ pages: PAGES + 16 });
  const mm = Mm.create(memory);
  let t = now();
  let addr: number;
  if (perPageFaults) {
    addr = await mm.mmap(GIB, RW, ANON);
    await mm.mmapLock.downRead();
    for (let a = addr; a < addr + GIB; a += 4096) await mm.handleMmFault(a, FAULT_FLAG_WRITE);
    mm.mmapLock.upRead();
  } else addr = await mm.mmap(GIB, RW, ANON | MAP_POPULATE);
  const faultIn = now() - t;
  if (memory.freePages !== 16) throw new Error(`populate left ${memory.freePages} free pages`);
  t = now();
  const child = await mm.fork();
  const fork = now() - t;
  await child.exit();
  t = now();
  await mm.munmap(addr, GIB);
  const munmap = now() - t;
  if (memory.freePages !== PAGES + 16) throw new Error('munmap did not free every page');
  await mm.exit();
  return { faultIn, fork, munmap };
}

function runNaive(): Timings {
  const memory = new NaiveMemory(PAGES);
  const mm = new NaiveMm(memory);
  const addr = 0x10000000;
  let t = now();
  mm.populate(addr, PAGES);
  const faultIn = now() - t;
  t = now();
  const child = mm.fork();
  const fork = now() - t;
  child.unmap(addr, PAGES);
  t = now();
  mm.unmap(addr, PAGES);
  const munmap = now() - t;
  if (memory.free.length !== PAGES) throw new Error('naive munmap lost pages');
  return { faultIn, fork, munmap };
}

function best(runs: Timings[]): Timings {
  return {
    faultIn: Math.min(...runs.map((r) => r.faultIn)),
    fork: Math.min(...runs.map((r) => r.fork)),
    munmap: Math.min(...runs.map((r) => r.munmap)),
  };
}

async function main(): Promise<void> {
  const populate: Timings[] = [];
  const perFault: Timings[] = [];
  const naive: Timings[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    populate.push(await runMm(false));
    perFault.push(await runMm(true));
    naive.push(runNaive());
  }
  const p = best(populate);
  const f = best(perFault);
  const n = best(naive);
  const rate = (ms: number) => `${(((PAGES / ms) * 1000) / 1e6).toFixed(2)} M pages/s`;
  const ratio = (ours: number, base: number) => `${(base / ours).toFixed(2)}x`;
  console.log(`1 GiB anonymous range (${PAGES} pages), best of ${ROUNDS}, node ${process.version}`);
  console.log('| operation | @hmmkit/mm | naive per-page objects | ratio |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| fault-in, MAP_POPULATE fault-around | ${rate(p.faultIn)} | ${rate(n.faultIn)} | ${ratio(p.faultIn, n.faultIn)} |`,
  );
  console.log(
    `| fault-in, one handleMmFault per page | ${rate(f.faultIn)} | ${rate(n.faultIn)} | ${ratio(f.faultIn, n.faultIn)} |`,
  );
  console.log(
    `| fork of the populated range | ${rate(p.fork)} (${p.fork.toFixed(1)} ms) | ${rate(n.fork)} (${n.fork.toFixed(1)} ms) | ${ratio(p.fork, n.fork)} |`,
  );
  console.log(
    `| munmap of it | ${rate(p.munmap)} (${p.munmap.toFixed(1)} ms) | ${rate(n.munmap)} (${n.munmap.toFixed(1)} ms) | ${ratio(p.munmap, n.munmap)} |`,
  );
}

await main();
