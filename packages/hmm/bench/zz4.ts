import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, Mm, PhysicalMemory } from '@hmmkit/mm';
import { HmmWalk } from '../src/hmm-walk.js';
import { HmmPfns } from '../src/index.js';

const GIB = 1 << 30,
  N = GIB / 4096;
const memory = new PhysicalMemory({ pages: N + 1024 });
const mm = Mm.create(memory);
const addr = await mm.mmap(GIB, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);
const range: any = {
  start: addr,
  end: addr + GIB,
  hmmPfns: new HmmPfns(N),
  defaultFlags: 0,
  pfnFlagsMask: 0,
};
const w: any = new HmmWalk(mm, range);
const vma = mm.vmaLookup(addr);
const fns: Record<string, () => void> = {
  walk: () => {
    w.last = addr;
    w.walk();
  },
  walkVma: () => {
    w.walkVma(vma, addr, addr + GIB);
  },
  walkPtes: () => {
    for (let a = addr; a < addr + GIB; a += 2 * 1024 * 1024)
      w.walkPtes(vma, mm.pt.pteBase(a, false), a, a + 2 * 1024 * 1024);
  },
};
const best: Record<string, number> = {};
for (let r = 0; r < 60; r++)
  for (const k in fns) {
    const t = process.hrtime.bigint();
    fns[k]!();
    best[k] = Math.min(best[k] ?? 1e9, Number(process.hrtime.bigint() - t) / 1e9);
  }
for (const k in best) console.log(k, (N / best[k]! / 1e6).toFixed(1));
