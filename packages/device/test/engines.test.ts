import { parseFdinfo } from '@hmmkit/fdinfo';
import { isKernelError, Prng } from '@hmmkit/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Device } from '../src/index.js';
import { PAGE, pattern, system } from './helpers.js';

async function bare(engines: Record<string, number> = { gfx: 1, compute: 2, copy: 1 }) {
  const { memory } = await system(1);
  return new Device(memory, { name: 'testgpu', engines });
}

describe('fences and engines in virtual time', () => {
  it('jobs of one queue run back to back and their fences signal when the clock passes their end', async () => {
    const device = await bare();
    const ctx = device.open();
    const q = ctx.createQueue('gfx');
    const a = q.submit({ durationNs: 1000 });
    const b = q.submit({ durationNs: 2000 });
    expect([a.point, b.point, a.seqno, b.seqno]).toEqual([1000, 3000, 1, 2]);
    await device.advance(999);
    expect([a.signaled, b.signaled]).toEqual([false, false]);
    await device.advance(1);
    expect([a.signaled, b.signaled]).toEqual([true, false]);
    await b.wait();
    expect(b.signaled).toBe(true);
    expect(device.now).toBe(3000);
  });

  it('busy time counts the part of a running job the clock has passed', async () => {
    const device = await bare();
    const ctx = device.open();
    ctx.createQueue('gfx').submit({ durationNs: 1000 });
    await device.advance(400);
    expect(device.fdinfo(ctx).engines.gfx?.busyNs).toBe(400n);
    await device.idle();
    expect(device.fdinfo(ctx).engines.gfx?.busyNs).toBe(1000n);
    await device.advance(5000);
    expect(device.fdinfo(ctx).engines.gfx?.busyNs).toBe(1000n);
  });

  it('two instances run two clients at once; a single instance serialises them', async () => {
    const device = await bare();
    const c1 = device.open();
    const c2 = device.open();
    const f1 = c1.createQueue('compute').submit({ durationNs: 1000 });
    const f2 = c2.createQueue('compute').submit({ durationNs: 1000 });
    const g1 = c1.createQueue('gfx').submit({ durationNs: 1000 });
    const g2 = c2.createQueue('gfx').submit({ durationNs: 1000 });
    expect([f1.point, f2.point, g1.point, g2.point]).toEqual([1000, 1000, 1000, 2000]);
    await device.idle();
    expect(device.fdinfo(c1).engines).toMatchObject({ compute: { busyNs: 1000n, capacity: 2 } });
    expect(device.fdinfo(c2).engines.gfx).toEqual({ busyNs: 1000n });
  });

  it('a job waits for its dependencies, and starts no earlier than the clock', async () => {
    const device = await bare();
    const ctx = device.open();
    const render = ctx.createQueue('gfx').submit({ durationNs: 500 });
    const copy = ctx.createQueue('copy').submit({ durationNs: 100, deps: [render] });
    expect(copy.point).toBe(600);
    await device.advance(1000);
    expect(ctx.createQueue('copy').submit({ durationNs: 10 }).point).toBe(1010);
  });

  it("a job's DMA ops run when it starts, through the client's translations", async () => {
    const { device, ctx, addr, mm } = await system(4);
    const fence = ctx.createQueue('copy').submit({
      durationNs: 10_000,
      ops: [{ op: 'copy', src: addr, dst: addr + 2 * PAGE, length: PAGE }],
    });
    expect(await mm.read(addr + 2 * PAGE, 4)).toEqual(
      pattern(4 * PAGE).subarray(2 * PAGE, 2 * PAGE + 4),
    );
    await fence.wait();
    expect(fence.error).toBeUndefined();
    expect(await mm.read(addr + 2 * PAGE, PAGE)).toEqual(pattern(PAGE));
    expect(device.now).toBe(10_000);
    expect(device.fdinfo(ctx).engines.copy?.busyNs).toBe(10_000n);
  });

  it('an unrecoverable fault in a job sets EFAULT on its fence; the engine time still counts', async () => {
    const { device, ctx, addr, mm } = await system(1);
    await mm.munmap(addr, PAGE);
    const f = ctx
      .createQueue('gfx')
      .submit({ durationNs: 50, ops: [{ op: 'write', va: addr, data: new Uint8Array(1) }] });
    await f.wait();
    expect(isKernelError(f.error, 'EFAULT')).toBe(true);
    expect(device.fdinfo(ctx).engines.gfx?.busyNs).toBe(50n);
  });

  it('close lets the client finish its jobs, then drops its translations', async () => {
    const { device, ctx, addr } = await system(2);
    await ctx.dmaRead(addr, 2 * PAGE);
    const f = ctx.createQueue('gfx').submit({ durationNs: 70 });
    await device.close(ctx);
    expect(f.signaled).toBe(true);
    expect(ctx.mappedPages).toBe(0);
    expect(ctx.closed).toBe(true);
    expect(() => ctx.createQueue('gfx')).toThrow(/closed/);
  });

  it('busy time is monotonic and equals the naive sum of passed job intervals (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 }), async (seed) => {
        const prng = new Prng(seed);
        const device = await bare({ gfx: 1, compute: 2 });
        const clients = [device.open(), device.open()];
        const queues = clients.flatMap((c) => [c.createQueue('gfx'), c.createQueue('compute')]);
        const jobs: Array<{ q: number; start: number; end: number }> = [];
        let last = [0n, 0n, 0n, 0n];
        for (let step = 0; step < 30; step++) {
          if (prng.nextInt(2) === 0) {
            const q = prng.nextInt(4);
            const d = prng.nextInt(500);
            const f = queues[q]!.submit({ durationNs: d });
            jobs.push({ q, start: f.point - d, end: f.point });
          } else await device.advance(prng.nextInt(400));
          const now = device.now;
          const busy = queues.map(
            (q, i) => device.fdinfo(clients[i >> 1]!).engines[q.engine]!.busyNs!,
          );
          const naive = queues.map((_, i) =>
            jobs
              .filter((j) => j.q === i)
              .reduce((sum, j) => sum + Math.max(0, Math.min(now, j.end) - j.start), 0),
          );
          expect(busy.map(Number)).toEqual(naive);
          for (const [i, b] of busy.entries()) expect(b >= last[i]!).toBe(true);
          last = busy;
        }
      }),
      { seed: 42, numRuns: 25 },
    );
  });

  it('fdinfo prints the standard keys and parses back to the same values', async () => {
    const { memory } = await system(1);
    const device = new Device(memory, {
      name: 'testgpu',
      pdev: '0000:03:00.0',
      engines: { gfx: 1, compute: 4 },
    });
    const ctx = device.open(undefined, { clientName: 'blender' });
    const pfn = memory.allocPage();
    ctx.map(0x20000, pfn, 3);
    ctx.createQueue('compute').submit({ durationNs: 1234 });
    await device.idle();
    const text = device.showFdinfo(ctx);
    expect(text).toContain('drm-driver:\ttestgpu\n');
    expect(text).toContain(`drm-client-id:\t${ctx.clientId}\n`);
    expect(text).toContain('drm-engine-compute:\t1234 ns\n');
    expect(text).toContain('drm-engine-capacity-compute:\t4\n');
    expect(text).toContain('drm-resident-system:\t4 KiB\n');
    expect(parseFdinfo(text)).toEqual(device.fdinfo(ctx));
    ctx.setClientName(undefined);
    expect(device.showFdinfo(ctx)).not.toContain('drm-client-name');
  });

  it('client ids are unique across devices and never reused', async () => {
    const a = await bare();
    const b = await bare();
    const ids = [a.open(), b.open(), a.open()].map((c) => BigInt(c.clientId));
    expect(new Set(ids).size).toBe(3);
    expect(ids[1]! > ids[0]! && ids[2]! > ids[1]!).toBe(true);
  });
});
