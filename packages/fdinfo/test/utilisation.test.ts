import {
  clientUsage,
  type DrmClientSample,
  type DrmEngineStats,
  DrmUsageTracker,
  engineUtilisation,
  usageByProcess,
} from '@hmmkit/fdinfo';
import { describe, expect, it } from 'vitest';

const S = 1_000_000_000n;

function sample(
  key: string,
  pid: number,
  t: bigint,
  engines: Record<string, DrmEngineStats>,
): DrmClientSample {
  return {
    key,
    pid,
    fd: 3,
    holders: [{ pid, fd: 3 }],
    device: '/dev/dri/renderD128',
    info: {
      driver: 'x',
      clientId: key,
      engines,
      memory: { vram: { resident: 1024, total: 2048 } },
      other: {},
    },
    timestampNs: t,
  };
}

describe('engineUtilisation', () => {
  it('divides busy ns delta by wall delta and capacity', () => {
    expect(engineUtilisation({ busyNs: 100n }, { busyNs: 100n + S / 2n }, S)).toEqual({
      utilisation: 0.5,
      basis: 'ns',
      capacity: 1,
      reset: false,
    });
    expect(engineUtilisation({ busyNs: 0n }, { busyNs: S, capacity: 4 }, S)?.utilisation).toBe(
      0.25,
    );
  });

  it('uses cycles over total-cycles when both samples have them, ignoring the wall clock', () => {
    const u = engineUtilisation(
      { cycles: 100n, totalCycles: 1000n, busyNs: 0n },
      { cycles: 400n, totalCycles: 2000n, busyNs: 99n * S, capacity: 2 },
      S,
    );
    expect(u).toEqual({ utilisation: 0.15, basis: 'cycles', capacity: 2, reset: false });
  });

  it('reports the share of maximum throughput from cycles and maxfreq next to the ns figure', () => {
    const u = engineUtilisation(
      { busyNs: 0n, cycles: 0n, maxFreqHz: 800_000_000 },
      { busyNs: S / 2n, cycles: 200_000_000n, maxFreqHz: 800_000_000 },
      S,
    );
    expect(u).toEqual({
      utilisation: 0.5,
      basis: 'ns',
      capacity: 1,
      reset: false,
      atMaxFreq: 0.25,
    });
    const onlyCycles = engineUtilisation(
      { cycles: 0n },
      { cycles: 400_000_000n, maxFreqHz: 800_000_000 },
      S,
    );
    expect(onlyCycles).toMatchObject({ utilisation: 0.5, basis: 'maxfreq' });
  });

  it('reports a counter that went backwards as a reset with 0, never negative', () => {
    expect(engineUtilisation({ busyNs: 5n * S }, { busyNs: S }, S)).toMatchObject({
      utilisation: 0,
      reset: true,
    });
    expect(
      engineUtilisation({ cycles: 9n, totalCycles: 9n }, { cycles: 1n, totalCycles: 20n }, S),
    ).toMatchObject({
      utilisation: 0,
      reset: true,
    });
  });

  it('clamps to 1 when sampling jitter makes busy time exceed the interval', () => {
    expect(engineUtilisation({ busyNs: 0n }, { busyNs: 2n * S }, S)?.utilisation).toBe(1);
  });

  it('counts an engine absent from the previous sample from zero (amdgpu prints only used engines)', () => {
    expect(engineUtilisation(undefined, { busyNs: S / 4n }, S)?.utilisation).toBe(0.25);
    expect(engineUtilisation(undefined, { cycles: 5n, totalCycles: 10n }, S)).toBeUndefined();
  });

  it('rejects bad arguments', () => {
    expect(() => engineUtilisation(undefined, null as never, S)).toThrow(TypeError);
    expect(() => engineUtilisation(undefined, {}, 5 as never)).toThrow(
      /intervalNs must be a bigint/,
    );
  });
});

describe('clientUsage and usageByProcess', () => {
  it('computes per-engine usage between two samples of one client', () => {
    const u = clientUsage(
      sample('a', 1, 0n, { gfx: { busyNs: 0n } }),
      sample('a', 1, 2n * S, { gfx: { busyNs: S } }),
    );
    expect(u.intervalNs).toBe(2n * S);
    expect(u.engines.gfx?.utilisation).toBe(0.5);
    expect(u.memory.vram?.resident).toBe(1024);
  });

  it('refuses samples of different clients or out of order', () => {
    const a = sample('a', 1, S, {});
    expect(() => clientUsage(a, sample('b', 1, 2n * S, {}))).toThrow(/keys differ/);
    expect(() => clientUsage(a, sample('a', 1, S, {}))).toThrow(/not later/);
    expect(() => clientUsage({} as never, a)).toThrow(TypeError);
  });

  it('sums clients per owning process, memory included', () => {
    const t = new DrmUsageTracker();
    t.update([
      sample('a', 7, 0n, { gfx: { busyNs: 0n } }),
      sample('b', 7, 0n, { gfx: { busyNs: 0n } }),
    ]);
    const usage = t.update([
      sample('a', 7, S, { gfx: { busyNs: S / 4n } }),
      sample('b', 7, S, { gfx: { busyNs: S / 2n } }),
    ]);
    expect(usageByProcess(usage)).toEqual([
      {
        pid: 7,
        clients: 2,
        engines: { gfx: 0.75 },
        memory: { vram: { resident: 2048, total: 4096 } },
      },
    ]);
    expect(() => usageByProcess('x' as never)).toThrow(TypeError);
  });
});

describe('DrmUsageTracker', () => {
  it('needs two samples of a client before it reports engine usage', () => {
    const t = new DrmUsageTracker();
    expect(t.update([sample('a', 1, 0n, { gfx: { busyNs: 0n } })])[0]?.engines).toEqual({});
    expect(
      t.update([sample('a', 1, S, { gfx: { busyNs: S / 10n } })])[0]?.engines.gfx?.utilisation,
    ).toBe(0.1);
  });

  it('keeps the larger previous value after a backwards step until the counter catches up', () => {
    const t = new DrmUsageTracker();
    t.update([sample('a', 1, 0n, { gfx: { busyNs: 10n * S } })]);
    const back = t.update([sample('a', 1, S, { gfx: { busyNs: 9n * S } })])[0]!;
    expect(back.engines.gfx).toMatchObject({ utilisation: 0, reset: true });
    // baseline stays at 10 s read at t=0: (11 - 10) s over 2 s
    const caught = t.update([sample('a', 1, 2n * S, { gfx: { busyNs: 11n * S } })])[0]!;
    expect(caught.engines.gfx).toMatchObject({ utilisation: 0.5, reset: false });
  });

  it('forgets clients that disappeared, so a returning key starts a new baseline', () => {
    const t = new DrmUsageTracker();
    t.update([sample('a', 1, 0n, { gfx: { busyNs: 0n } })]);
    t.update([]);
    expect(t.update([sample('a', 1, S, { gfx: { busyNs: S } })])[0]?.engines).toEqual({});
    expect(() => t.update(null as never)).toThrow(TypeError);
  });
});
