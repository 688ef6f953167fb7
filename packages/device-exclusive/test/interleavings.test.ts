import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
} from '@hmmkit/mm';
import { explore, exploreOrThrow, replay, setTraceSink, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { AtomicDevice, allFree, exclusiveEntries } from './device.js';
import { RW } from './helpers.js';

const DFS = { policy: 'dfs', preemptionBound: 2 } as const;

/** A process with one written page and its mapping address. */
async function world(): Promise<{ memory: PhysicalMemory; mm: Mm; addr: number }> {
  const memory = new PhysicalMemory({ pages: 32 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new Uint8Array([1, 2, 3, 4]));
  return { memory, mm, addr };
}

async function expectBytes(mm: Mm, addr: number, want: number[]): Promise<void> {
  const got = [...(await mm.read(addr, want.length))];
  if (got.join() !== want.join()) throw new Error(`bytes lost: got [${got}], want [${want}]`);
}

async function teardown(memory: PhysicalMemory, ...mms: Mm[]): Promise<void> {
  assertInvariants(memory);
  for (const m of mms) await m.exit();
  if (!allFree(memory)) throw new Error(`${memory.totalPages - memory.freePages} frames leaked`);
}

describe('interleavings under the explorer', () => {
  it('a CPU write racing a device atomic loses no byte and never overlaps the exclusive window', async () => {
    const res = await exploreOrThrow(async () => {
      const { memory, mm, addr } = await world();
      const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
      const d = spawn('device', () => dev.atomicAdd(addr, 1));
      const c = spawn('cpu', () => mm.write(addr + 1, new Uint8Array([0xaa])));
      await d.join();
      await c.join();
      await expectBytes(mm, addr, [2, 0xaa, 3, 4]);
      await teardown(memory, mm);
    }, DFS);
    expect(res.exhausted).toBe(true);
    expect(res.runs).toBeGreaterThan(10);
  });

  it('two devices asking for the same page take turns; both increments land', async () => {
    let retries = 0;
    setTraceSink((e) => {
      if (e.kind === 'device-exclusive' && e.name === 'retry') retries++;
    });
    const res = await exploreOrThrow(async () => {
      const { memory, mm, addr } = await world();
      const a = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'a');
      const b = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'b');
      const ta = spawn('dev-a', () => a.atomicAdd(addr, 1, [b]));
      const tb = spawn('dev-b', () => b.atomicAdd(addr, 1, [a]));
      await ta.join();
      await tb.join();
      await expectBytes(mm, addr, [3, 2, 3, 4]);
      await teardown(memory, mm);
    }, DFS).finally(() => setTraceSink(undefined));
    expect(res.exhausted).toBe(true);
    // Some schedule lets the other device convert the PTE while this one waits for the page
    // lock, so the second walk sees a changed entry and the whole sequence is retried.
    expect(retries).toBeGreaterThan(0);
  });

  it('fork racing a device atomic: no exclusive entry in the child, parent and child keep their bytes', async () => {
    const res = await exploreOrThrow(async () => {
      const { memory, mm, addr } = await world();
      const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev');
      const d = spawn('device', () => dev.atomicAdd(addr, 1));
      const f = spawn('fork', () => mm.fork());
      await d.join();
      const child = await f.join();
      if (exclusiveEntries(child).length !== 0) throw new Error('exclusive entry in the child');
      const seen = (await child.read(addr, 1))[0];
      if (seen !== 1 && seen !== 2) throw new Error(`child sees ${seen}`);
      await expectBytes(mm, addr, [2, 2, 3, 4]);
      await teardown(memory, child, mm);
    }, DFS);
    expect(res.exhausted).toBe(true);
  });

  it('munmap racing a device atomic: the device either finishes first or gets EFAULT, nothing leaks', async () => {
    const outcomes = new Set<string>();
    const res = await exploreOrThrow(async () => {
      const { memory, mm, addr } = await world();
      const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
      const d = spawn('device', () =>
        dev.atomicAdd(addr, 1).then(
          () => 'done',
          (e: { code?: string }) => e.code ?? String(e),
        ),
      );
      const u = spawn('munmap', () => mm.munmap(addr, PAGE_SIZE));
      const outcome = await d.join();
      await u.join();
      if (outcome !== 'done' && outcome !== 'EFAULT') throw new Error(`device got ${outcome}`);
      if (dev.atomic.size !== 0) throw new Error('device kept a mapping of an unmapped page');
      outcomes.add(outcome);
      await teardown(memory, mm);
    }, DFS);
    expect(res.exhausted).toBe(true);
    expect([...outcomes].sort()).toEqual(['EFAULT', 'done']);
  });

  it('mprotect(PROT_READ) racing a device atomic: the byte is incremented exactly when the device succeeded', async () => {
    const res = await exploreOrThrow(async () => {
      const { memory, mm, addr } = await world();
      const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
      const d = spawn('device', () =>
        dev.atomicAdd(addr, 1).then(
          () => true,
          () => false,
        ),
      );
      const p = spawn('mprotect', () => mm.mprotect(addr, PAGE_SIZE, 1));
      const ok = await d.join();
      await p.join();
      await expectBytes(mm, addr, [ok ? 2 : 1, 2, 3, 4]);
      await teardown(memory, mm);
    }, DFS);
    expect(res.exhausted).toBe(true);
  });

  it('with read_begin before makeDeviceExclusive (nouveau order), fork interrupting an attempt livelocks the driver', async () => {
    const scenario = async () => {
      const { mm, addr } = await world();
      const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev', {
        order: 'nouveau',
        maxAttempts: 16,
      });
      const d = spawn('device', () => dev.atomicAdd(addr, 1));
      const f = spawn('fork', () => mm.fork());
      await d.join();
      await f.join();
    };
    const res = await explore(scenario, DFS);
    const failure = res.failure;
    if (failure === undefined) throw new Error(`no livelock found in ${res.runs} runs`);
    expect(failure.error).toMatchObject({ code: 'EBUSY' });
    await expect(replay(failure.schedule, scenario)).rejects.toMatchObject({ code: 'EBUSY' });
  });
});
