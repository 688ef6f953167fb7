/**
 * hmm_range_fault throughput over 1 GiB (262144 pages): a snapshot of a populated range (no
 * faults) and the fault-in of an empty one, against a naive per-page object walk of the same
 * page table. Prints pages/s and the ratios. Run: pnpm bench
 */
import {
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTE_WRITE,
} from '@hmmkit/mm';
import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  type HmmRange,
  hmmRangeFault,
} from '../src/index.js';

const GIB = 1024 * 1024 * 1024;
const NPAGES = GIB / PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

async function setup(populate: boolean) {
  const memory = new PhysicalMemory({ pages: NPAGES + 1024 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(GIB, RW, ANON | (populate ? MAP_POPULATE : 0));
  const sub = await mm.notifiers.insertInterval(addr, GIB, {
    invalidate(s, _r, cur) {
      s.setSeq(cur);
      return true;
    },
  });
  const range: HmmRange = {
    notifier: sub,
    notifierSeq: 0,
    start: addr,
    end: addr + GIB,
    hmmPfns: new HmmPfns(NPAGES),
    defaultFlags: 0,
    pfnFlagsMask: 0,
  };
  return { mm, addr, range };
}

async function timed(range: HmmRange, mm: Mm): Promise<number> {
  range.notifierSeq = await range.notifier.readBegin();
  await mm.mmapLock.downRead();
  const t0 = process.hrtime.bigint();
  try {
    await hmmRangeFault(range);
  } finally {
    mm.mmapLock.upRead();
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The naive walk: per page a VMA lookup, a 4-level descent and an output object. */
function naiveSnapshot(mm: Mm, start: number, end: number): { pfn: number; flags: number }[] {
  const out: { pfn: number; flags: number }[] = [];
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const vma = mm.vmaLookup(addr);
    const slot = vma === undefined ? -1 : mm.pt.pteSlot(addr, false);
    const bits = slot < 0 ? 0 : mm.pt.bits[slot]!;
    const valid = bits & PTE_PRESENT ? HMM_PFN_VALID : 0;
    const write = bits & PTE_WRITE ? HMM_PFN_WRITE : 0;
    out.push({ pfn: slot < 0 ? 0 : mm.pt.pfn[slot]!, flags: valid | write });
  }
  return out;
}

function best(xs: number[]): number {
  return Math.min(...xs);
}

function rate(seconds: number): string {
  return `${(NPAGES / seconds / 1e6).toFixed(1)} M pages/s`;
}

async function main(): Promise<void> {
  const snap = await setup(true);
  const runs = 15;
  const tSnap: number[] = [];
  const tSnapFault: number[] = [];
  const tNaive: number[] = [];
  for (let i = 0; i < runs; i++) {
    snap.range.defaultFlags = 0;
    tSnap.push(await timed(snap.range, snap.mm));
    snap.range.defaultFlags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
    tSnapFault.push(await timed(snap.range, snap.mm));
  }
  for (let i = 0; i < 5; i++) {
    await snap.mm.mmapLock.downRead();
    const t0 = process.hrtime.bigint();
    const res = naiveSnapshot(snap.mm, snap.range.start, snap.range.end);
    tNaive.push(Number(process.hrtime.bigint() - t0) / 1e9);
    snap.mm.mmapLock.upRead();
    if (res.length !== NPAGES) throw new Error('naive walk lost pages');
  }
  if (snap.range.hmmPfns.flags[NPAGES - 1] !== (HMM_PFN_VALID | HMM_PFN_WRITE))
    throw new Error('snapshot did not see the populated pages');

  const tFaultW: number[] = [];
  const tFaultR: number[] = [];
  for (let i = 0; i < 3; i++) {
    const w = await setup(false);
    w.range.defaultFlags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
    tFaultW.push(await timed(w.range, w.mm));
    if (w.range.hmmPfns.flags[NPAGES - 1] !== (HMM_PFN_VALID | HMM_PFN_WRITE))
      throw new Error('write fault-in did not map the pages');
    const r = await setup(false);
    r.range.defaultFlags = HMM_PFN_REQ_FAULT;
    tFaultR.push(await timed(r.range, r.mm));
  }

  const rows: [string, number][] = [
    ['snapshot, populated 1 GiB, no request', best(tSnap)],
    ['snapshot, populated 1 GiB, REQ_FAULT|REQ_WRITE (already satisfied)', best(tSnapFault)],
    ['naive per-page object walk, populated 1 GiB', best(tNaive)],
    ['fault-in, empty 1 GiB, REQ_FAULT|REQ_WRITE (new anon pages)', best(tFaultW)],
    ['fault-in, empty 1 GiB, REQ_FAULT (zero page)', best(tFaultR)],
  ];
  console.log(
    `hmmRangeFault over 1 GiB (${NPAGES} pages), best of ${runs}/5/3 runs, node ${process.version}`,
  );
  console.log('| case | time | throughput |');
  console.log('| --- | --- | --- |');
  for (const [name, s] of rows)
    console.log(`| ${name} | ${(s * 1e3).toFixed(2)} ms | ${rate(s)} |`);
  console.log(`snapshot vs naive walk: ${(best(tNaive) / best(tSnap)).toFixed(1)}x faster`);
}

await main();
