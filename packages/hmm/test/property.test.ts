/**
 * hmmRangeFault against a naive per-page model of the §2.4 table, on random page tables,
 * VMA layouts and requests that need no fault (seeded fast-check).
 */

import {
  HMM_PFN_DMA_MAPPED,
  HMM_PFN_ERROR,
  HMM_PFN_INOUT_FLAGS,
  HMM_PFN_P2PDMA,
  HMM_PFN_P2PDMA_BUS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
} from '@hmmkit/hmm';
import {
  PROT_NONE,
  PROT_READ,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  PteKind,
  setPteAt,
  swpBits,
  ZERO_PFN,
} from '@hmmkit/mm';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ANON, machine, mirror, PAGE, RW, rangeFault, withPtl } from './helpers.js';

const NPAGES = 12;
const STATES = [
  'none',
  'rw',
  'ro',
  'zero',
  'special',
  'protnone',
  'swap',
  'devOwn',
  'devOwnRo',
  'devOther',
  'exclusive',
  'migration',
] as const;
type State = (typeof STATES)[number];
const VMAS = ['rw', 'rw', 'rw', 'ro', 'none', 'hole'] as const;
type VmaKind = (typeof VMAS)[number];

interface Page {
  vma: VmaKind;
  state: State;
  sticky: number;
  /** Which satisfiable request to ask: 0 none, 1 REQ_FAULT, 2 REQ_FAULT|REQ_WRITE, 3 REQ_WRITE alone. */
  ask: number;
}

const pageArb = fc.record({
  vma: fc.constantFrom(...VMAS),
  state: fc.constantFrom(...STATES),
  sticky: fc
    .subarray([HMM_PFN_DMA_MAPPED, HMM_PFN_P2PDMA, HMM_PFN_P2PDMA_BUS])
    .map((a) => a.reduce((x, y) => x | y, 0)),
  ask: fc.integer({ min: 0, max: 3 }),
});

/** The model: output (pfn, cpu flags) of one page when nothing needs a fault. */
function model(p: Page, pfn: number): [number, number] {
  if (p.vma === 'hole' || p.vma === 'none') return [0, HMM_PFN_ERROR];
  switch (p.state) {
    case 'rw':
      return [pfn, HMM_PFN_VALID | HMM_PFN_WRITE];
    case 'ro':
      return [pfn, HMM_PFN_VALID];
    case 'zero':
      return [ZERO_PFN, HMM_PFN_VALID];
    case 'special':
      return [0, HMM_PFN_ERROR];
    case 'protnone':
      return [pfn, 0];
    case 'devOwn':
      return [pfn, HMM_PFN_VALID | HMM_PFN_WRITE];
    case 'devOwnRo':
      return [pfn, HMM_PFN_VALID];
    default:
      return [0, 0];
  }
}

/** A request the page's model output already satisfies (so no fault is needed). */
function request(p: Page, cpu: number): number {
  if (p.ask === 3) return HMM_PFN_REQ_WRITE;
  if (p.ask === 2 && cpu & HMM_PFN_WRITE) return HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
  if (p.ask >= 1 && cpu & HMM_PFN_VALID) return HMM_PFN_REQ_FAULT;
  return 0;
}

async function run(pages: Page[], perPage: boolean): Promise<void> {
  const { memory, mm } = machine(256);
  const own = memory.registerDevicePages({ nrPages: NPAGES, owner: 'own', type: 'private' });
  const other = memory.registerDevicePages({ nrPages: NPAGES, owner: 'other', type: 'private' });
  const addr = await mm.mmap(NPAGES * PAGE, RW, ANON);
  const sub = await mirror(mm, addr, NPAGES * PAGE);
  const pfns: number[] = [];
  for (let i = 0; i < NPAGES; i++) {
    const a = addr + i * PAGE;
    const p = pages[i]!;
    if (p.vma === 'hole') await mm.munmap(a, PAGE);
    else if (p.vma !== 'rw') await mm.mprotect(a, PAGE, p.vma === 'ro' ? PROT_READ : PROT_NONE);
    pfns.push(await install(p.state, a));
  }

  async function install(state: State, a: number): Promise<number> {
    const frame = memory.allocPage();
    const dev = (state === 'devOther' ? other : own).firstPfn + (a - addr) / PAGE;
    const entries: Record<State, [number, number]> = {
      none: [0, 0],
      rw: [frame, PTE_PRESENT | PTE_WRITE],
      ro: [frame, PTE_PRESENT],
      zero: [ZERO_PFN, PTE_PRESENT | PTE_SPECIAL],
      special: [frame, PTE_PRESENT | PTE_SPECIAL],
      protnone: [frame, PTE_PRESENT | PTE_PROTNONE | PTE_WRITE],
      swap: [7, swpBits(PteKind.SWAP, false)],
      devOwn: [dev, swpBits(PteKind.DEVICE_PRIVATE, true)],
      devOwnRo: [dev, swpBits(PteKind.DEVICE_PRIVATE, false)],
      devOther: [dev, swpBits(PteKind.DEVICE_PRIVATE, true)],
      exclusive: [frame, swpBits(PteKind.DEVICE_EXCLUSIVE, true)],
      migration: [frame, swpBits(PteKind.MIGRATION, true)],
    };
    const [pfn, bits] = entries[state];
    if (bits !== 0) {
      await mm.mmapLock.downRead();
      withPtl(mm, () => setPteAt(mm, a, pfn, bits));
      mm.mmapLock.upRead();
    }
    return pfn;
  }

  const input: Record<number, number> = {};
  const expected = pages.map((p, i) => model(p, pfns[i]!));
  pages.forEach((p, i) => {
    input[i] = p.sticky | (perPage ? request(p, expected[i]![1]) : 0);
  });
  const mask = perPage ? HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE : 0;
  const r = await rangeFault(mm, sub, addr, addr + NPAGES * PAGE, {
    pfnFlagsMask: mask,
    owner: 'own',
    input,
  });
  for (let i = 0; i < NPAGES; i++) {
    const [pfn, cpu] = expected[i]!;
    const want = { pfn, flags: (input[i]! & HMM_PFN_INOUT_FLAGS) | cpu };
    const got = { pfn: r.hmmPfns.pfn[i], flags: r.hmmPfns.flags[i] };
    if (got.pfn !== want.pfn || got.flags !== want.flags)
      throw new Error(
        `page ${i} (${pages[i]!.vma}/${pages[i]!.state}): got ${JSON.stringify(got)}, model ${JSON.stringify(want)}`,
      );
  }
}

describe('hmmRangeFault agrees with a per-page model of the case table', () => {
  it('on random page tables and VMA layouts, snapshot (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pageArb, { minLength: NPAGES, maxLength: NPAGES }), (pages) =>
        run(pages, false),
      ),
      { seed: 20261122, numRuns: 60 },
    );
  });

  it('with per-page requests that are already satisfied (mask = REQ_FAULT | REQ_WRITE, seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pageArb, { minLength: NPAGES, maxLength: NPAGES }), (pages) =>
        run(pages, true),
      ),
      { seed: 7, numRuns: 60 },
    );
  });
});
