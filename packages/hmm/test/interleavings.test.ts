/**
 * The driver loop racing the CPU side under the runtime's explorer: a device programmed
 * from hmmRangeFault() outputs must never hold a pfn the CPU no longer maps there.
 */

import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  type HmmRange,
  hmmRangeFault,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import {
  assertInvariants,
  type Mm,
  migratePage,
  PROT_READ,
  PTE_WRITE,
  PteKind,
  pteKind,
  SWP_WRITE,
} from '@hmmkit/mm';
import type { MmuIntervalNotifier } from '@hmmkit/mmu-notifier';
import { explore, isKernelError, Mutex, replay, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { ANON, machine, PAGE, RW, rangeOf } from './helpers.js';
import { TinyDevice } from './tiny-device.js';

const DFS2 = { policy: 'dfs', preemptionBound: 2 } as const;
const NPAGES = 2;
/** The mirror's devPrivateOwner, also the owner of the racing device's memory. */
const DEVICE_OWNER = 'device';

/** A device page table mirroring the CPU, invalidated under the driver lock. */
class Mirror {
  readonly lock = new Mutex('driver');
  readonly table = new Map<number, { pfn: number; write: boolean }>();
  sub!: MmuIntervalNotifier;

  constructor(readonly mm: Mm) {}

  async register(addr: number): Promise<void> {
    this.sub = await this.mm.notifiers.insertInterval(addr, NPAGES * PAGE, {
      invalidate: async (s, range, cur) => {
        await this.lock.lock();
        s.setSeq(cur);
        for (let a = range.start; a < range.end; a += PAGE) this.table.delete(a);
        this.lock.unlock();
        return true;
      },
    });
  }

  /** Programs the device; throws if a pfn is not what the CPU maps right now. */
  program(r: HmmRange): void {
    for (let i = 0; i < NPAGES; i++) {
      const f = r.hmmPfns.flags[i]!;
      if (!(f & HMM_PFN_VALID)) continue;
      const addr = r.start + i * PAGE;
      const entry = { pfn: r.hmmPfns.pfn[i]!, write: (f & HMM_PFN_WRITE) !== 0 };
      this.check(addr, entry);
      this.table.set(addr, entry);
    }
  }

  /** Every device entry must match the CPU page table. */
  checkAll(): void {
    for (const [addr, e] of this.table) this.check(addr, e);
  }

  private check(addr: number, e: { pfn: number; write: boolean }): void {
    // The page table, not the VMA list: munmap detaches the VMA before its invalidation
    // starts, and the device may keep the page until then, as the CPU TLB may.
    const slot = this.mm.pt.pteSlot(addr, false);
    const bits = slot < 0 ? 0 : this.mm.pt.bits[slot]!;
    const pfn = slot < 0 ? -1 : this.mm.pt.pfn[slot]!;
    const kind = pteKind(bits);
    // Device-private pages of the mirror's own owner are reported and may be programmed.
    const mapped = kind === PteKind.PRESENT || kind === PteKind.DEVICE_PRIVATE;
    const writable = kind === PteKind.PRESENT ? bits & PTE_WRITE : bits & SWP_WRITE;
    if (!mapped || pfn !== e.pfn || (e.write && !writable))
      throw new Error(`stale device mapping at ${addr}: device pfn ${e.pfn}, CPU pfn ${pfn}`);
  }
}

/** Outcomes a racing munmap or mprotect legitimately causes. */
function expected(e: unknown): boolean {
  return isKernelError(e, 'EFAULT') || isKernelError(e, 'EPERM');
}

function scenario(
  racer: (mm: Mm, addr: number) => Promise<unknown>,
  driver: (m: Mirror, range: HmmRange) => Promise<unknown>,
) {
  return async () => {
    const { mm } = machine(32);
    const addr = await mm.mmap(NPAGES * PAGE, RW, ANON);
    await mm.write(addr, new Uint8Array(NPAGES * PAGE).fill(7));
    const m = new Mirror(mm);
    await m.register(addr);
    const range = rangeOf(m.sub, addr, addr + NPAGES * PAGE, {
      defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
      owner: DEVICE_OWNER,
    });
    const dev = spawn('driver', () =>
      driver(m, range).catch((e) => (expected(e) ? 0 : Promise.reject(e))),
    );
    const cpu = spawn('cpu', () => racer(mm, addr));
    await dev.join();
    await cpu.join();
    m.checkAll();
  };
}

/** The documented loop (hmmRangeFaultLoop). */
const goodDriver = (m: Mirror, range: HmmRange) =>
  hmmRangeFaultLoop(range, { lock: m.lock, program: (r) => m.program(r), timeout: 20 });

/** A driver that skips read_retry under its lock: the bug the protocol exists to prevent. */
async function noRetryDriver(m: Mirror, range: HmmRange): Promise<void> {
  for (;;) {
    range.notifierSeq = await range.notifier.readBegin();
    await m.mm.mmapLock.downRead();
    try {
      await hmmRangeFault(range);
      break;
    } catch (e) {
      if (!isKernelError(e, 'EBUSY')) throw e;
    } finally {
      m.mm.mmapLock.upRead();
    }
  }
  await schedulePoint(); // the same preemption point as hmmRangeFaultLoop()
  await m.lock.lock();
  m.program(range);
  m.lock.unlock();
}

const racers: Record<string, (mm: Mm, addr: number) => Promise<unknown>> = {
  munmap: (mm, addr) => mm.munmap(addr, PAGE),
  mprotect: (mm, addr) => mm.mprotect(addr, NPAGES * PAGE, PROT_READ),
  fork: (mm) => mm.fork(),
  migration: async (mm, addr) => migratePage(mm.memory, mm.pt.pfn[mm.pt.pteSlot(addr, false)]!),
  'migration to device memory': (mm, addr) =>
    new TinyDevice(mm.memory, NPAGES, 'private', DEVICE_OWNER).migrateToDevice(mm, addr, NPAGES),
};

describe('the driver loop racing the CPU side never programs a stale pfn (DFS, preemption bound 2)', () => {
  for (const [name, racer] of Object.entries(racers))
    it(`against ${name}`, async () => {
      const res = await explore(scenario(racer, goodDriver), DFS2);
      expect(res.failure?.replay, String(res.failure?.error)).toBeUndefined();
      expect(res.exhausted).toBe(true);
      expect(res.runs).toBeGreaterThan(1);
    });
});

describe('the check has teeth', () => {
  it('a driver that skips read_retry programs a stale pfn against munmap under some schedule', async () => {
    const s = scenario(racers.munmap!, noRetryDriver);
    const res = await explore(s, DFS2);
    const failure = res.failure;
    if (!failure) throw new Error(`no stale mapping found in ${res.runs} runs`);
    expect(String(failure.error)).toMatch(/stale device mapping/);
    await expect(replay(failure.schedule, s)).rejects.toThrow(/stale device mapping/);
  });
});

describe('migration to device memory racing CPU accesses (DFS, preemption bound 2)', () => {
  it('keeps every byte and every page reference, whichever side wins each page', async () => {
    const outcomes = new Set<string>();
    const res = await explore(async () => {
      const { memory, mm } = machine(32);
      const addr = await mm.mmap(2 * PAGE, RW, ANON);
      await mm.write(addr, new Uint8Array([11]));
      const dev = new TinyDevice(memory, 2);
      const migrate = spawn('migrate', () => dev.migrateToDevice(mm, addr, 2));
      const cpu = spawn('cpu', async () => {
        await mm.write(addr + PAGE, new Uint8Array([22]));
        return (await mm.read(addr, 1))[0];
      });
      const mig = await migrate.join();
      expect(await cpu.join()).toBe(11);
      assertInvariants(memory);
      const onDevice = [0, 1].filter((i) =>
        memory.pagemapOf(mm.pt.pfn[mm.pt.pteSlot(addr + i * PAGE, false)]!),
      );
      expect(dev.pool.nrFree + onDevice.length).toBe(2);
      expect((await mm.read(addr + PAGE, 1))[0]).toBe(22);
      expect((await mm.read(addr, 1))[0]).toBe(11);
      outcomes.add(`${mig.cpages}:${onDevice.join('')}`);
    }, DFS2);
    expect(res.failure?.replay, String(res.failure?.error)).toBeUndefined();
    expect(res.exhausted).toBe(true);
    expect(outcomes.size).toBeGreaterThan(1);
  });
});
