import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  Mm,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  migratePage,
  PageTableWalker,
  PhysicalMemory,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PteKind,
  reclaimPage,
} from '../src/index.js';
import { RW } from './helpers.js';

/**
 * Random operation sequences over several processes against a model of each process's
 * bytes: every page of a window holds one value (all 4096 bytes), private pages belong to
 * their process, shared pages to a shared object that several processes may map.
 */
const BASE = 0x10000000;
/** Pages in the window the operations target (set per property). */
let WINDOW = 6;

type PageModel = { prot: number; shared?: { store: number[]; index: number }; value: number };
type Proc = { mm: Mm; pages: Map<number, PageModel> };

type Op =
  | { op: 'mmap'; p: number; page: number; n: number; prot: number; shared: boolean }
  | { op: 'munmap' | 'dontneed'; p: number; page: number; n: number }
  | { op: 'mprotect'; p: number; page: number; n: number; prot: number }
  | { op: 'write'; p: number; page: number; value: number }
  | { op: 'read'; p: number; page: number }
  | { op: 'fork' | 'exit'; p: number }
  | { op: 'reclaim' | 'migrate'; p: number; page: number }
  | { op: 'mremap'; p: number; page: number; n: number; to: number };

function opsFor(window: number, maxN: number): fc.Arbitrary<Op> {
  const prot = fc.constantFrom(PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE);
  const p = fc.nat(3);
  const page = fc.nat(window - 1);
  const n = fc.integer({ min: 1, max: maxN });
  const value = fc.integer({ min: 1, max: 255 });
  return fc.oneof(
    {
      arbitrary: fc.record({
        op: fc.constant('mmap' as const),
        p,
        page,
        n,
        prot,
        shared: fc.boolean(),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        op: fc.constantFrom('munmap' as const, 'dontneed' as const),
        p,
        page,
        n,
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ op: fc.constant('mprotect' as const), p, page, n, prot }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('write' as const), p, page, value }), weight: 5 },
    { arbitrary: fc.record({ op: fc.constant('read' as const), p, page }), weight: 4 },
    {
      arbitrary: fc.record({ op: fc.constantFrom('fork' as const, 'exit' as const), p }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        op: fc.constantFrom('reclaim' as const, 'migrate' as const),
        p,
        page,
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({ op: fc.constant('mremap' as const), p, page, n, to: page }),
      weight: 1,
    },
  );
}

function addr(pg: number): number {
  return BASE + pg * 4096;
}

function modelValue(m: PageModel): number {
  return m.shared ? m.shared.store[m.shared.index]! : m.value;
}

function pfnOf(mm: Mm, a: number): number {
  const w = new PageTableWalker(mm);
  w.reset(a, a + 4096);
  w.next();
  return w.kind === PteKind.PRESENT && !w.special ? w.pfn : -1;
}

async function step(memory: PhysicalMemory, procs: Proc[], o: Op): Promise<void> {
  const proc = procs[o.p % procs.length]!;
  const { mm, pages } = proc;
  switch (o.op) {
    case 'mmap': {
      const n = Math.min(o.n, WINDOW - o.page);
      const flags = MAP_FIXED | MAP_ANONYMOUS | (o.shared ? MAP_SHARED : MAP_PRIVATE);
      await mm.mmap(n * 4096, o.prot, flags, { addr: addr(o.page) });
      const store = o.shared ? new Array<number>(n).fill(0) : undefined;
      for (let i = 0; i < n; i++)
        pages.set(o.page + i, {
          prot: o.prot,
          value: 0,
          ...(store ? { shared: { store, index: i } } : {}),
        });
      return;
    }
    case 'munmap':
      await mm.munmap(addr(o.page), o.n * 4096);
      for (let i = 0; i < o.n; i++) pages.delete(o.page + i);
      return;
    case 'dontneed': {
      const mapped = [...Array(o.n).keys()].every((i) => pages.has(o.page + i));
      const call = mm.madvise(addr(o.page), o.n * 4096, MADV_DONTNEED);
      if (!mapped) await expect(call).rejects.toMatchObject({ code: 'ENOMEM' });
      else await call;
      for (let i = 0; i < o.n; i++) {
        const m = pages.get(o.page + i);
        if (m && !m.shared) m.value = 0;
      }
      return;
    }
    case 'mprotect': {
      let i = 0;
      for (; i < o.n && pages.has(o.page + i); i++) pages.get(o.page + i)!.prot = o.prot;
      const call = mm.mprotect(addr(o.page), o.n * 4096, o.prot);
      if (i < o.n) await expect(call).rejects.toMatchObject({ code: 'ENOMEM' });
      else await call;
      return;
    }
    case 'write': {
      const m = pages.get(o.page);
      const call = mm.write(addr(o.page), new Uint8Array(4096).fill(o.value));
      if (!m || !(m.prot & PROT_WRITE))
        return expect(call).rejects.toMatchObject({ code: 'EFAULT' });
      await call;
      if (m.shared) m.shared.store[m.shared.index] = o.value;
      else m.value = o.value;
      return;
    }
    case 'read': {
      const m = pages.get(o.page);
      const call = mm.read(addr(o.page), 4096);
      if (!m || m.prot === PROT_NONE) return expect(call).rejects.toMatchObject({ code: 'EFAULT' });
      const bytes = await call;
      const v = modelValue(m);
      expect(allEqual(bytes, v)).toBe(true);
      return;
    }
    case 'fork': {
      if (procs.length >= 4) return;
      const child = await mm.fork();
      const copy = new Map<number, PageModel>();
      for (const [k, m] of pages) copy.set(k, { ...m });
      procs.push({ mm: child, pages: copy });
      return;
    }
    case 'exit':
      if (procs.length === 1) return;
      await mm.exit();
      procs.splice(procs.indexOf(proc), 1);
      return;
    case 'mremap': {
      const n = Math.min(o.n, WINDOW - o.page, WINDOW - o.to);
      const vma = mm.vmaLookup(addr(o.page));
      const call = mm.mremap(
        addr(o.page),
        n * 4096,
        n * 4096,
        MREMAP_MAYMOVE | MREMAP_FIXED,
        addr(o.to),
      );
      if (o.page < o.to + n && o.to < o.page + n)
        return expect(call).rejects.toMatchObject({ code: 'EINVAL' });
      if (vma === undefined || vma.end < addr(o.page + n))
        return expect(call).rejects.toMatchObject({ code: 'EFAULT' });
      await call;
      const moved = [...Array(n).keys()].map((i) => pages.get(o.page + i));
      for (let i = 0; i < n; i++) pages.delete(o.page + i);
      for (let i = 0; i < n; i++) pages.set(o.to + i, moved[i]!);
      return;
    }
    case 'reclaim':
    case 'migrate': {
      const pfn = pfnOf(mm, addr(o.page));
      if (pfn < 0) return;
      if (o.op === 'reclaim') await reclaimPage(memory, pfn);
      else await migratePage(memory, pfn);
      return;
    }
  }
}

/** Whether every byte of `bytes` is `v` (a plain loop: this runs over megabytes). */
function allEqual(bytes: Uint8Array, v: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== v) return false;
  return true;
}

/** Reads every readable page of `proc`, one call per run of consecutive readable pages. */
async function checkAllPages(proc: Proc): Promise<void> {
  const readable = (pg: number) => {
    const m = proc.pages.get(pg);
    return m !== undefined && m.prot !== PROT_NONE;
  };
  for (let pg = 0; pg < WINDOW; pg++) {
    if (!readable(pg)) continue;
    let end = pg;
    while (end < WINDOW && readable(end)) end++;
    const bytes = await proc.mm.read(addr(pg), (end - pg) * 4096);
    for (let i = pg; i < end; i++) {
      const v = modelValue(proc.pages.get(i)!);
      const page = bytes.subarray((i - pg) * 4096, (i - pg + 1) * 4096);
      if (!allEqual(page, v)) expect.fail(`page ${i} of mm ${proc.mm.id} is not ${v}`);
    }
    pg = end;
  }
}

/** Runs random sequences over a window whose first mappings `setup` creates. */
async function runProperty(
  window: number,
  maxN: number,
  pages: number,
  setup: (memory: PhysicalMemory, procs: Proc[]) => Promise<void>,
  params: { seed: number; numRuns: number },
): Promise<void> {
  WINDOW = window;
  await fc.assert(
    fc.asyncProperty(
      fc.array(opsFor(window, maxN), { minLength: 5, maxLength: 50 }),
      async (ops) => {
        const memory = new PhysicalMemory({ pages });
        const procs: Proc[] = [{ mm: Mm.create(memory), pages: new Map() }];
        await setup(memory, procs);
        for (const o of ops) {
          await step(memory, procs, o);
          assertInvariants(memory);
        }
        for (const proc of procs) await checkAllPages(proc);
        for (const proc of procs) await proc.mm.exit();
        assertInvariants(memory);
        expect(memory.freePages).toBe(pages);
        expect(memory.swap.usedSlots).toBe(0);
      },
    ),
    params,
  );
}

describe('random operation sequences across processes', () => {
  it('keep every byte, COW isolation, shared mappings shared, and the invariants', async () => {
    await runProperty(
      6,
      3,
      96,
      async (memory, procs) => {
        await step(memory, procs, { op: 'mmap', p: 0, page: 0, n: 2, prot: RW, shared: false });
        await step(memory, procs, { op: 'mmap', p: 0, page: 2, n: 2, prot: RW, shared: false });
        await step(memory, procs, { op: 'mmap', p: 0, page: 4, n: 2, prot: RW, shared: true });
      },
      { seed: 20261122, numRuns: 100 },
    );
  });

  it('hold the same over VM_HUGEPAGE memory, where PMD leaves are split and shared', async () => {
    await runProperty(
      1024,
      700,
      8192,
      async (memory, procs) => {
        await step(memory, procs, { op: 'mmap', p: 0, page: 0, n: 1024, prot: RW, shared: false });
        await procs[0]!.mm.madvise(addr(0), 1024 * 4096, MADV_HUGEPAGE);
      },
      { seed: 4711, numRuns: 12 },
    );
  });
});
