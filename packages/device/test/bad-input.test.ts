import { PhysicalMemory } from '@hmmkit/mm';
import { isKernelError } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { Device, type DeviceOptions, type DmaOp } from '../src/index.js';

const memory = () => new PhysicalMemory({ pages: 8 });
const einval = (e: unknown) => isKernelError(e, 'EINVAL');

function throwsEinval(f: () => unknown, mention: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(einval(err), String(err)).toBe(true);
  expect(String(err)).toMatch(mention);
}

describe('bad input', () => {
  it.each<[string, unknown, RegExp]>([
    ['memory', null, /memory must be a PhysicalMemory, got null/],
    ['opts', 5, /opts must be an object, got 5/],
  ])('Device rejects a bad %s', (_what, value, mention) => {
    const args = _what === 'memory' ? [value] : [memory(), value];
    throwsEinval(() => new Device(...(args as [PhysicalMemory, DeviceOptions])), mention);
  });

  it.each<[DeviceOptions, RegExp]>([
    [{ name: 'a b' }, /opts.name must be .*got "a b"/],
    [{ name: '' }, /opts.name/],
    [{ pdev: '3:0.0' }, /opts.pdev must be a PCI address/],
    [{ engines: {} }, /opts.engines must be non-empty/],
    [{ engines: { gfx: 0 } }, /opts.engines.gfx must be an integer in \[1, 64\], got 0/],
    [{ engines: { 'capacity-x': 1 } }, /capacity-/],
    [{ engines: [] as unknown as Record<string, number> }, /opts.engines must be an object/],
    [{ tlbEntries: 48 }, /opts.tlbEntries must be a power of two, got 48/],
    [{ tlbEntries: 0 }, /opts.tlbEntries/],
    [
      { staleCheck: 'warn' as 'off' },
      /opts.staleCheck must be 'throw', 'record' or 'off', got "warn"/,
    ],
    [{ maxFaultRetries: 0 }, /opts.maxFaultRetries/],
  ])('Device rejects options %j', (opts, mention) => {
    throwsEinval(() => new Device(memory(), opts), mention);
  });

  it('Device methods name the bad argument', async () => {
    const d = new Device(memory());
    const other = new Device(memory()).open();
    throwsEinval(
      () => d.setFaultHandler(3 as never),
      /handler must be a function or undefined, got 3/,
    );
    throwsEinval(() => d.open({} as never), /mm must be an Mm or undefined/);
    throwsEinval(() => d.open(undefined, { clientName: 'x y' }), /opts.clientName/);
    throwsEinval(() => d.open(undefined, null as never), /opts must be an object/);
    throwsEinval(() => d.runUntil(-1), /t must be an integer/);
    throwsEinval(() => d.advance(1.5), /ns must be an integer/);
    throwsEinval(() => d.fdinfo(other), /ctx must be a client of this device/);
    throwsEinval(() => d.showFdinfo({} as never), /ctx must be a client of this device/);
    await expect(d.close(other)).rejects.toThrow(/ctx must be an open client of this device/);
  });

  it('DeviceContext methods name the bad argument', async () => {
    const mem = memory();
    const ctx = new Device(mem).open();
    throwsEinval(() => ctx.map(100, 1, 1), /va must be a page-aligned address/);
    throwsEinval(() => ctx.map(4096, 1e9, 1), /pfn must be a pfn of this memory, got 1000000000/);
    throwsEinval(() => ctx.map(4096, 1, 8), /perms must be an integer in \[1, 7\], got 8/);
    throwsEinval(() => ctx.map(4096, 1, 2), /perms must be a mask with DEVICE_PTE_READ, got 2/);
    throwsEinval(() => ctx.setClientName('a:b'), /name must be a non-empty string without/);
    throwsEinval(() => ctx.busyNs('video'), /engine must be an engine of this device, got "video"/);
    throwsEinval(() => ctx.unmap(0, 1.5), /end must be an integer/);
    throwsEinval(() => ctx.unmap(8192, 4096), /end must be >= start \(8192\), got 4096/);
    throwsEinval(() => ctx.flushTlb(-4096, 0), /start must be a page-aligned/);
    throwsEinval(() => ctx.entryAt(2 ** 47), /va must be an integer address/);
    throwsEinval(
      () => ctx.createQueue('video'),
      /engine must be an engine of this device, got "video"/,
    );
    throwsEinval(() => ctx.createQueue(''), /engine must be a non-empty string/);
    await expect(ctx.dmaRead(-1, 1)).rejects.toSatisfy(einval);
    await expect(ctx.dmaRead(0, -1)).rejects.toThrow(/length must be an integer/);
    await expect(ctx.dmaReadInto(0, 'x' as never)).rejects.toThrow(
      /dst must be a Uint8Array, got "x"/,
    );
    await expect(ctx.dmaReadInto(2 ** 47, new Uint8Array(1))).rejects.toThrow(/va must be/);
    await expect(ctx.dmaWrite(0, [1] as never)).rejects.toThrow(
      /data must be a Uint8Array, got an array/,
    );
    await expect(ctx.dmaAtomicAdd(2, 1)).rejects.toThrow(/va must be 4-byte aligned, got 2/);
    await expect(ctx.dmaAtomicAdd(0, -1)).rejects.toThrow(/addend must be an integer/);
  });

  it('CommandQueue.submit names the bad job field', () => {
    const d = new Device(memory());
    const q = d.open().createQueue('gfx');
    const foreign = new Device(memory()).open().createQueue('gfx').submit({ durationNs: 1 });
    throwsEinval(() => q.submit(null as never), /job must be an object, got null/);
    throwsEinval(() => q.submit({ durationNs: -1 }), /job.durationNs must be an integer/);
    throwsEinval(() => q.submit({ durationNs: 1, ops: {} as never }), /job.ops must be an array/);
    throwsEinval(
      () => q.submit({ durationNs: 1, ops: [{ op: 'fill' } as unknown as DmaOp] }),
      /job.ops\[0\].op must be 'copy' or 'write', got "fill"/,
    );
    throwsEinval(
      () => q.submit({ durationNs: 1, ops: [{ op: 'copy', src: 0, dst: -5, length: 1 }] }),
      /job.ops\[0\].dst must be an integer address/,
    );
    throwsEinval(
      () => q.submit({ durationNs: 1, ops: [{ op: 'write', va: 0, data: 'x' as never }] }),
      /job.ops\[0\].data must be a Uint8Array/,
    );
    throwsEinval(
      () => q.submit({ durationNs: 1, deps: [foreign] }),
      /job.deps\[0\] must be a DmaFence of this device/,
    );
  });

  it('every entry point of a closed client throws EINVAL', async () => {
    const d = new Device(memory());
    const ctx = d.open();
    const q = ctx.createQueue('gfx');
    await d.close(ctx);
    throwsEinval(() => ctx.map(0, 1, 1), /closed/);
    throwsEinval(() => ctx.unmap(0, 4096), /closed/);
    throwsEinval(() => ctx.flushTlbAll(), /closed/);
    throwsEinval(() => q.submit({ durationNs: 1 }), /closed/);
    await expect(ctx.dmaRead(0, 1)).rejects.toThrow(/closed/);
    await expect(ctx.close()).rejects.toThrow(/closed/);
  });
});
