/**
 * Explorer scenarios shared by interleavings.test.ts (bounded, in `pnpm test`) and
 * explore.ts (deeper bounds and random schedules, `pnpm explore`). Each builds its own
 * world, as the explorer requires, and throws on a broken rule.
 */
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
} from '@hmmkit/mm';
import { spawn } from '@hmmkit/runtime';
import { AtomicDevice, allFree, exclusiveEntries } from './device.js';
import { RW } from './helpers.js';

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

/** A device atomic settling to 'done' or the errno it failed with. */
function outcomeOf(p: Promise<void>): Promise<string> {
  return p.then(
    () => 'done',
    (e: { code?: string }) => e.code ?? String(e),
  );
}

/** A CPU write to the same page racing a device atomic. */
export async function cpuWriteVsDevice(): Promise<void> {
  const { memory, mm, addr } = await world();
  const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
  const d = spawn('device', () => dev.atomicAdd(addr, 1));
  const c = spawn('cpu', () => mm.write(addr + 1, new Uint8Array([0xaa])));
  await d.join();
  await c.join();
  await expectBytes(mm, addr, [2, 0xaa, 3, 4]);
  await teardown(memory, mm);
}

/** Two devices asking for the same page at once. */
export async function twoDevices(): Promise<void> {
  const { memory, mm, addr } = await world();
  const a = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'a');
  const b = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'b');
  const ta = spawn('dev-a', () => a.atomicAdd(addr, 1, [b]));
  const tb = spawn('dev-b', () => b.atomicAdd(addr, 1, [a]));
  await ta.join();
  await tb.join();
  await expectBytes(mm, addr, [3, 2, 3, 4]);
  await teardown(memory, mm);
}

/**
 * fork racing a device atomic; each fork outcome seen is added to `outcomes`. A fork that
 * finds the page locked by the driver fails with ENOMEM (copy_pte_range's -EBUSY) and leaves
 * the parent as it was; a fork that succeeds gives the child no exclusive entry. Bytes are
 * kept on both sides either way.
 */
export function forkVsDevice(outcomes = new Set<string>()): () => Promise<void> {
  return async () => {
    const { memory, mm, addr } = await world();
    const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev');
    const d = spawn('device', () => dev.atomicAdd(addr, 1));
    let child: Mm | undefined;
    const f = spawn('fork', () =>
      outcomeOf(
        mm.fork().then((c) => {
          child = c;
        }),
      ),
    );
    await d.join();
    const outcome = await f.join();
    if (outcome !== 'done' && outcome !== 'ENOMEM') throw new Error(`fork got ${outcome}`);
    if ((outcome === 'done') !== (child !== undefined)) throw new Error('fork outcome mismatch');
    outcomes.add(outcome);
    if (child !== undefined) {
      if (exclusiveEntries(child).length !== 0) throw new Error('exclusive entry in the child');
      const seen = (await child.read(addr, 1))[0];
      if (seen !== 1 && seen !== 2) throw new Error(`child sees ${seen}`);
    }
    await expectBytes(mm, addr, [2, 2, 3, 4]);
    await teardown(memory, ...(child === undefined ? [] : [child]), mm);
  };
}

/** munmap racing a device atomic; each outcome seen is added to `outcomes`. */
export function munmapVsDevice(outcomes = new Set<string>()): () => Promise<void> {
  return async () => {
    const { memory, mm, addr } = await world();
    const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
    const d = spawn('device', () => outcomeOf(dev.atomicAdd(addr, 1)));
    const u = spawn('munmap', () => mm.munmap(addr, PAGE_SIZE));
    const outcome = await d.join();
    await u.join();
    if (outcome !== 'done' && outcome !== 'EFAULT') throw new Error(`device got ${outcome}`);
    if (dev.atomic.size !== 0) throw new Error('device kept a mapping of an unmapped page');
    outcomes.add(outcome);
    await teardown(memory, mm);
  };
}

/** mprotect(PROT_READ) racing a device atomic: the byte changes exactly when it succeeded. */
export async function mprotectVsDevice(): Promise<void> {
  const { memory, mm, addr } = await world();
  const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE);
  const d = spawn('device', () => outcomeOf(dev.atomicAdd(addr, 1)));
  const p = spawn('mprotect', () => mm.mprotect(addr, PAGE_SIZE, PROT_READ));
  const outcome = await d.join();
  await p.join();
  if (outcome !== 'done' && outcome !== 'EFAULT') throw new Error(`device got ${outcome}`);
  await expectBytes(mm, addr, [outcome === 'done' ? 2 : 1, 2, 3, 4]);
  await teardown(memory, mm);
}

/** A nouveau-order driver (read_begin first) racing fork; livelocks under some schedule. */
export async function nouveauOrderVsFork(): Promise<void> {
  const { mm, addr } = await world();
  const dev = await AtomicDevice.open(mm, addr, PAGE_SIZE, 'dev', {
    order: 'nouveau',
    maxAttempts: 16,
  });
  const d = spawn('device', () => dev.atomicAdd(addr, 1));
  // The fork may fail with ENOMEM when it meets the page locked between two attempts.
  const f = spawn('fork', () => outcomeOf(mm.fork().then((c) => c.exit())));
  await d.join();
  await f.join();
}

/** The scenarios that must pass under every schedule. */
export const SAFE_SCENARIOS: Record<string, () => Promise<void>> = {
  cpuWriteVsDevice,
  twoDevices,
  forkVsDevice: forkVsDevice(),
  munmapVsDevice: munmapVsDevice(),
  mprotectVsDevice,
};
