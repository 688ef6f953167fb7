/**
 * hmm_range_fault throughput over 1 GiB (262144 pages): a snapshot of a populated range (no
 * faults) and the fault-in of an empty one. Baselines in the same run: a naive per-page
 * object walk of the same page table (for the snapshot) and a bare loop of mm's
 * handleMmFault() over the same pages (the floor for the fault-in, which hmmRangeFault
 * calls once per page as the kernel does). Times are process CPU time (user + system), so a
 * busy machine does not count against the figures; wall time is printed too.
 * Run: pnpm bench
 */
import { loadavg } from 'node:os';
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
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

interface Timing {
  cpu: number;
  wall: number;
}

async function measure(fn: () => Promise<unknown> | unknown): Promise<Timing> {
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall };
}

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

async function rangeFault(range: HmmRange, mm: Mm): Promise<Timing> {
  range.notifierSeq = await range.notifier.readBegin();
  await mm.mmapLock.downRead();
  try {
    return await measure(() => hmmRangeFault(range));
  } finally {
    mm.mmapLock.upRead();
  }
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

/** mm's fault handler alone over the range: what any per-page fault-in must pay. */
async function handleMmFaultLoop(): Promise<Timing> {
  const { mm, addr } = await setup(false);
  await mm.mmapLock.downRead();
  try {
    return await measure(async () => {
      for (let a = addr; a < addr + GIB; a += PAGE_SIZE)
        await mm.handleMmFault(a, FAULT_FLAG_REMOTE | FAULT_FLAG_WRITE);
    });
  } finally {
    mm.mmapLock.upRead();
  }
}

function best(xs: Timing[]): Timing {
  return xs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
}

async function repeat(n: number, fn: () => Promise<Timing>): Promise<Timing> {
  const xs: Timing[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return best(xs);
}

function mps(seconds: number): string {
  return `${(NPAGES / seconds / 1e6).toFixed(1)} M pages/s`;
}

async function main(): Promise<void> {
  const snap = await setup(true);
  const wantAll = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
  const snapshot = await repeat(30, () => {
    snap.range.defaultFlags = 0;
    return rangeFault(snap.range, snap.mm);
  });
  if (snap.range.hmmPfns.flags[NPAGES - 1] !== (HMM_PFN_VALID | HMM_PFN_WRITE))
    throw new Error('snapshot did not see the populated pages');
  const satisfied = await repeat(30, () => {
    snap.range.defaultFlags = wantAll;
    return rangeFault(snap.range, snap.mm);
  });
  const naive = await repeat(5, async () => {
    await snap.mm.mmapLock.downRead();
    try {
      return await measure(() => {
        if (naiveSnapshot(snap.mm, snap.range.start, snap.range.end).length !== NPAGES)
          throw new Error('naive walk lost pages');
      });
    } finally {
      snap.mm.mmapLock.upRead();
    }
  });
  const floor = await repeat(3, handleMmFaultLoop);
  const faultW = await repeat(3, async () => {
    const w = await setup(false);
    w.range.defaultFlags = wantAll;
    const t = await rangeFault(w.range, w.mm);
    if (w.range.hmmPfns.flags[NPAGES - 1] !== (HMM_PFN_VALID | HMM_PFN_WRITE))
      throw new Error('write fault-in did not map the pages');
    return t;
  });
  const faultR = await repeat(3, async () => {
    const r = await setup(false);
    r.range.defaultFlags = HMM_PFN_REQ_FAULT;
    return rangeFault(r.range, r.mm);
  });

  const rows: [string, Timing][] = [
    ['hmmRangeFault snapshot, populated, no request', snapshot],
    ['hmmRangeFault snapshot, populated, REQ_FAULT|REQ_WRITE already met', satisfied],
    ['naive per-page object walk, populated', naive],
    ['hmmRangeFault fault-in, empty, REQ_FAULT|REQ_WRITE (new anon pages)', faultW],
    ['hmmRangeFault fault-in, empty, REQ_FAULT (zero page)', faultR],
    ['mm handleMmFault() loop alone, empty, write', floor],
  ];
  const load = loadavg()[0]!.toFixed(1);
  console.log(
    `1 GiB = ${NPAGES} pages; best CPU time of 30/30/5/3/3/3 runs; node ${process.version}; load average ${load}`,
  );
  console.log('| case | CPU time | throughput (CPU) | wall time |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, t] of rows)
    console.log(
      `| ${name} | ${(t.cpu * 1e3).toFixed(1)} ms | ${mps(t.cpu)} | ${(t.wall * 1e3).toFixed(1)} ms |`,
    );
  console.log(`snapshot vs naive walk: ${(naive.cpu / snapshot.cpu).toFixed(1)}x`);
  console.log(`write fault-in vs bare handleMmFault loop: ${(floor.cpu / faultW.cpu).toFixed(2)}x`);
}

await main();
