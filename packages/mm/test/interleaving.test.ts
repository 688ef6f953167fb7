import { exploreOrThrow, Mutex, replay, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  FOLL_WRITE,
  MADV_HUGEPAGE,
  Mm,
  migratePage,
  oomReap,
  PhysicalMemory,
  PMD_SIZE,
  reclaimPage,
} from '../src/index.js';
import { ANON, fill, pfnAt, RW } from './helpers.js';

/** Fork, munmap, reclaim, migration and a COW write racing on one address space. */
async function forkRace(): Promise<void> {
  const memory = new PhysicalMemory({ pages: 32 });
  const mm = Mm.create(memory);
  const a = await mm.mmap(4 * 4096, RW, ANON);
  await mm.write(a, fill(4 * 4096, 1));
  const pfns = [0, 1, 2, 3].map((i) => pfnAt(mm, a + i * 4096));
  let child: Mm | undefined;
  const tasks = [
    spawn('fork', async () => {
      child = await mm.fork();
    }),
    spawn('munmap', () => mm.munmap(a + 3 * 4096, 4096)),
    spawn('reclaim', () => reclaimPage(memory, pfns[1]!)),
    spawn('write', () => mm.write(a, fill(4096, 2))),
    spawn('migrate', () => migratePage(memory, pfns[2]!)),
  ];
  for (const t of tasks) await t.join();
  assertInvariants(memory);
  expect((await mm.read(a, 1))[0]).toBe(2);
  expect((await mm.read(a + 4096, 2 * 4096)).every((x) => x === 1)).toBe(true);
  const c = child!;
  const first = (await c.read(a, 1))[0];
  expect(first === 1 || first === 2).toBe(true);
  expect((await c.read(a + 4096, 2 * 4096)).every((x) => x === 1)).toBe(true);
  await c.exit();
  await mm.exit();
  expect(memory.freePages).toBe(32);
  expect(memory.swap.usedSlots).toBe(0);
}

describe('interleavings under the explorer', () => {
  it('COW writes, reads, migration and reclaim of shared pages never lose or leak a byte', async () => {
    const scenario = async () => {
      const memory = new PhysicalMemory({ pages: 32 });
      const parent = Mm.create(memory);
      const a = await parent.mmap(2 * 4096, RW, ANON);
      await parent.write(a, fill(8192, 1));
      const child = await parent.fork();
      const p0 = pfnAt(parent, a);
      const p1 = pfnAt(parent, a + 4096);
      const tasks = [
        spawn('parent-write', () => parent.write(a, fill(4096, 2))),
        spawn('child-read', async () => {
          const b = await child.read(a, 4096);
          expect(b.every((x) => x === 1)).toBe(true);
        }),
        spawn('migrate', () => migratePage(memory, p0)),
        spawn('reclaim', () => reclaimPage(memory, p1)),
        spawn('child-write', () => child.write(a + 4096, fill(4096, 3))),
      ];
      for (const t of tasks) await t.join();
      assertInvariants(memory);
      expect((await parent.read(a, 8192)).filter((x) => x === 2)).toHaveLength(4096);
      expect((await parent.read(a + 4096, 4096)).every((x) => x === 1)).toBe(true);
      expect((await child.read(a, 4096)).every((x) => x === 1)).toBe(true);
      expect((await child.read(a + 4096, 4096)).every((x) => x === 3)).toBe(true);
      await child.exit();
      await parent.exit();
      expect(memory.freePages).toBe(32);
      expect(memory.swap.usedSlots).toBe(0);
    };
    const res = await exploreOrThrow(scenario, { policy: 'pct', seed: 7, runs: 60 });
    expect(res.runs).toBe(60);
  });

  it('munmap racing a pin and a fault: the pinned page survives until unpinned', async () => {
    const scenario = async () => {
      const memory = new PhysicalMemory({ pages: 16 });
      const mm = Mm.create(memory);
      const a = await mm.mmap(2 * 4096, RW, ANON);
      await mm.write(a, fill(4096, 4));
      let pinned: number[] = [];
      const pin = spawn('pin', async () => {
        const refs = await mm.pinUserPages(a, 1, FOLL_WRITE).catch(() => []);
        pinned = refs.map((r) => r.pfn);
        return refs;
      });
      const unmap = spawn('munmap', () => mm.munmap(a, 2 * 4096));
      const fault = spawn('fault', () => mm.write(a + 4096, fill(1, 5)).catch(() => undefined));
      const refs = await pin.join();
      await unmap.join();
      await fault.join();
      assertInvariants(memory);
      for (const pfn of pinned) {
        const byte = new Uint8Array(1);
        memory.readPage(pfn, 0, byte, 0, 1);
        expect(byte[0]).toBe(4);
      }
      expect(memory.freePages).toBe(16 - refs.length);
      for (const r of refs) r.release();
      await mm.exit();
      expect(memory.freePages).toBe(16);
    };
    await exploreOrThrow(scenario, { policy: 'random', seed: 11, runs: 60 });
  });
});

describe('more interleavings under the explorer', () => {
  it('THP: faults, fork, partial munmap, reclaim and a pin racing on one huge PMD', async () => {
    const scenario = async () => {
      const memory = new PhysicalMemory({ pages: 2048 });
      const mm = Mm.create(memory);
      const a = await mm.mmap(PMD_SIZE, RW, ANON, { addr: 0x40000000 });
      await mm.madvise(a, PMD_SIZE, MADV_HUGEPAGE);
      await mm.write(a, fill(PMD_SIZE, 1));
      const pfn = pfnAt(mm, a + 8 * 4096);
      let child: Mm | undefined;
      const tasks = [
        spawn('write', () => mm.write(a + 4096, fill(4096, 2))),
        spawn('fork', async () => {
          child = await mm.fork();
        }),
        spawn('munmap', () => mm.munmap(a + 16 * 4096, 4096)),
        spawn('reclaim', () => reclaimPage(memory, pfn)),
        spawn('pin', async () => {
          const refs = await mm.pinUserPages(a + 32 * 4096, 1, FOLL_WRITE);
          for (const r of refs) r.release();
        }),
      ];
      for (const t of tasks) await t.join();
      assertInvariants(memory);
      expect((await mm.read(a + 4096, 1))[0]).toBe(2);
      expect((await mm.read(a + 8 * 4096, 1))[0]).toBe(1);
      const c = child!;
      const b = (await c.read(a + 4096, 1))[0];
      expect(b === 1 || b === 2).toBe(true);
      expect((await c.read(a + 8 * 4096, 1))[0]).toBe(1);
      await c.exit();
      await mm.exit();
      expect(memory.freePages).toBe(2048);
      expect(memory.swap.usedSlots).toBe(0);
    };
    await exploreOrThrow(scenario, { policy: 'pct', seed: 21, runs: 40 });
  });

  it('migration, reclaim and munmap of the same page: it is freed once, never while referenced', async () => {
    const scenario = async () => {
      const memory = new PhysicalMemory({ pages: 16 });
      const mm = Mm.create(memory);
      const a = await mm.mmap(2 * 4096, RW, ANON);
      await mm.write(a, fill(2 * 4096, 7));
      const pfn = pfnAt(mm, a);
      const tasks = [
        spawn('migrate', () => migratePage(memory, pfn)),
        spawn('reclaim', () => reclaimPage(memory, pfn)),
        spawn('munmap', () => mm.munmap(a, 4096)),
        spawn('read', async () => {
          expect((await mm.read(a + 4096, 1))[0]).toBe(7);
        }),
      ];
      for (const t of tasks) await t.join();
      assertInvariants(memory);
      await mm.exit();
      expect(memory.freePages).toBe(16);
      expect(memory.swap.usedSlots).toBe(0);
    };
    await exploreOrThrow(scenario, { policy: 'random', seed: 9, runs: 80 });
  });

  it('fork, munmap, reclaim and a writer racing on one address space keep the invariants', async () => {
    await exploreOrThrow(forkRace, { policy: 'pct', seed: 3, runs: 60 });
  });

  it('regression: remove_migration_ptes finds the entry fork copied meanwhile (pct:3:4>5.5>3)', async () => {
    await replay('pct:3:4>5.5>3', forkRace);
  });

  it('the OOM reaper racing a driver whose notifier trylocks its mutex', async () => {
    const scenario = async () => {
      const memory = new PhysicalMemory({ pages: 32 });
      const mm = Mm.create(memory);
      const a = await mm.mmap(4 * 4096, RW, ANON);
      await mm.write(a, fill(4 * 4096, 1));
      const lock = new Mutex('driver.lock');
      await mm.notifiers.insertInterval(a, 4 * 4096, {
        invalidate(sub, range, seq) {
          if (!range.flags) {
            if (!lock.trylock()) return false;
          } else return lock.lock().then(() => finish(sub, seq));
          return finish(sub, seq);
        },
      });
      const finish = (sub: { setSeq(s: number): void }, seq: number) => {
        sub.setSeq(seq);
        lock.unlock();
        return true;
      };
      const driver = spawn('driver', async () => {
        await lock.lock();
        await schedulePoint();
        lock.unlock();
      });
      let reaped = false;
      const reaper = spawn('oom_reaper', async () => {
        for (let i = 0; i < 10 && !reaped; i++) {
          reaped = await oomReap(mm);
          if (!reaped) await schedulePoint();
        }
      });
      await driver.join();
      await reaper.join();
      expect(reaped).toBe(true);
      expect(memory.freePages).toBe(32);
      expect(mm.notifiers.activeInvalidateRanges).toBe(0);
      assertInvariants(memory);
      await mm.exit();
    };
    await exploreOrThrow(scenario, { policy: 'random', seed: 5, runs: 60 });
  });
});
