import { DRIVER_SAMPLES, FdinfoSyntaxError, parseFdinfo } from '@hmmkit/fdinfo';
import { describe, expect, it } from 'vitest';

describe('parseFdinfo on real driver samples', () => {
  it('reads the i915 documentation sample with exact bigint counters and capacity', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.i915)!;
    expect(info.driver).toBe('i915');
    expect(info.pdev).toBe('0000:00:02.0');
    expect(info.clientId).toBe('7');
    expect(info.engines.render).toEqual({ busyNs: 9288864723n });
    expect(info.engines.video).toEqual({ busyNs: 0n, capacity: 2 });
    expect(info.engines['video-enhance']).toEqual({ busyNs: 0n });
    expect(info.other).toEqual({ pos: '0', flags: '0100002', mnt_id: '21' });
  });

  it('reads i915 memory regions in KiB as bytes, including a region name with a dash', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.i915Memory)!;
    expect(info.memory.system0).toEqual({
      total: 6044 * 1024,
      shared: 0,
      active: 0,
      resident: 6044 * 1024,
      purgeable: 1688 * 1024,
    });
    expect(info.memory['stolen-system0']?.total).toBe(0);
  });

  it('maps legacy drm-memory-<region> to resident when no drm-resident line exists', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.amdgpuLegacy)!;
    expect(info.memory).toEqual({
      vram: { resident: 2068 * 1024 },
      gtt: { resident: 8192 * 1024 },
      cpu: { resident: 0 },
    });
    expect(info.other.pasid).toBe('32784');
  });

  it('lets an explicit drm-resident line win over drm-memory in any order', () => {
    const a = parseFdinfo(
      'drm-driver: amdgpu\ndrm-memory-vram: 1 KiB\ndrm-resident-vram: 2 KiB\n',
    )!;
    const b = parseFdinfo(
      'drm-driver: amdgpu\ndrm-resident-vram: 2 KiB\ndrm-memory-vram: 1 KiB\n',
    )!;
    expect(a.memory.vram?.resident).toBe(2048);
    expect(b.memory.vram?.resident).toBe(2048);
  });

  it('handles the amdgpu layout: space before TAB, MiB units, summed duplicate engine lines', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.amdgpu)!;
    expect(info.memory.vram?.total).toBe(16 * 1024 * 1024);
    expect(info.memory.gtt?.resident).toBe(23992 * 1024);
    expect(info.engines.dec?.busyNs).toBe(2000n);
    expect(info.other['amd-requested-gtt']).toBe('23992 KiB');
  });

  it('reads msm cycles and maxfreq in Hz', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.msm)!;
    expect(info.engines.gpu).toEqual({
      busyNs: 1734371319n,
      cycles: 1153645024n,
      maxFreqHz: 800000000,
    });
  });

  it('reads xe cycles, total-cycles and capacities without drm-engine ns lines', () => {
    const info = parseFdinfo(DRIVER_SAMPLES.xe)!;
    expect(info.engines.rcs).toEqual({ cycles: 28257900n, totalCycles: 7655183225n });
    expect(info.engines.ccs?.capacity).toBe(4);
    expect(info.memory.system?.resident).toBe(4 * 1024 * 1024);
  });

  it('keeps v3d job counts and panfrost curfreq as other keys', () => {
    expect(parseFdinfo(DRIVER_SAMPLES.v3d)!.other['v3d-jobs-render']).toBe('98 jobs');
    const pf = parseFdinfo(DRIVER_SAMPLES.panfrost)!;
    expect(pf.other['drm-curfreq-fragment']).toBe('799999987 Hz');
    expect(pf.engines['vertex-tiler']?.maxFreqHz).toBe(799999987);
  });

  it('parses every published and layout sample in strict mode', () => {
    for (const text of Object.values(DRIVER_SAMPLES))
      expect(parseFdinfo(text, { strict: true })).toBeDefined();
  });
});

describe('parseFdinfo units and values', () => {
  it('accepts bytes, KiB, MiB, GiB and kB on memory keys', () => {
    const info = parseFdinfo(
      'drm-driver:\tx\ndrm-total-a:\t5\ndrm-total-b:\t5 KiB\ndrm-total-c:\t5 MiB\ndrm-total-d:\t5 GiB\ndrm-total-e:\t5 kB\n',
    )!;
    expect(Object.values(info.memory).map((m) => m.total)).toEqual([
      5,
      5120,
      5 * 2 ** 20,
      5 * 2 ** 30,
      5120,
    ]);
  });

  it('accepts maxfreq in Hz, KHz and MHz', () => {
    const info = parseFdinfo(
      'drm-driver:x\ndrm-maxfreq-a: 7 Hz\ndrm-maxfreq-b: 7 KHz\ndrm-maxfreq-c: 7 MHz\n',
    )!;
    expect([
      info.engines.a?.maxFreqHz,
      info.engines.b?.maxFreqHz,
      info.engines.c?.maxFreqHz,
    ]).toEqual([7, 7000, 7e6]);
  });

  it('keeps u64 counters exact beyond 2^53', () => {
    const info = parseFdinfo(
      'drm-driver: x\ndrm-engine-e: 18446744073709551615 ns\ndrm-client-id: 9007199254740993\n',
    )!;
    expect(info.engines.e?.busyNs).toBe(18446744073709551615n);
    expect(info.clientId).toBe('9007199254740993');
  });

  it('returns undefined for a non-DRM fdinfo and for an empty string', () => {
    expect(parseFdinfo('pos:\t0\nflags:\t02\nmnt_id:\t3\n')).toBeUndefined();
    expect(parseFdinfo('')).toBeUndefined();
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    expect(parseFdinfo('drm-driver: a\r\ndrm-engine-x: 3 ns')?.engines.x?.busyNs).toBe(3n);
  });
});

describe('parseFdinfo malformed input', () => {
  const bad = [
    'drm-driver: i915',
    'drm-engine-render: 12x ns',
    'no delimiter here',
    'drm-engine-capacity-video: 0',
    'drm-total-system: 5 PiB',
    'drm-maxfreq-gpu: 9 THz',
    'drm-cycles-gpu: -4',
    'drm-total-x: 99999999999999999999',
    'bad key: 1',
  ].join('\n');

  it('tolerant mode skips malformed lines and keeps the good ones', () => {
    const info = parseFdinfo(bad)!;
    expect(info.driver).toBe('i915');
    expect(info.engines).toEqual({});
    expect(info.memory).toEqual({});
  });

  it('strict mode throws one FdinfoSyntaxError listing every malformed line number', () => {
    let err: unknown;
    try {
      parseFdinfo(bad, { strict: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FdinfoSyntaxError);
    expect((err as FdinfoSyntaxError).issues.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect((err as Error).message).toMatch(/line 2: bad counter value/);
  });

  it('treats non-ASCII whitespace in a key as whitespace, like the formatter', () => {
    expect(() =>
      parseFdinfo('drm-driver: a\ndrm-engine-a\u00a0b: 1 ns\n', { strict: true }),
    ).toThrow(/line 2: key contains whitespace/);
    expect(parseFdinfo('drm-driver: a\ndrm-engine-a\u2003b: 1 ns\n')?.engines).toEqual({});
  });

  it('strict mode reports duplicate scalar keys', () => {
    expect(() => parseFdinfo('drm-driver: a\ndrm-driver: b\n', { strict: true })).toThrow(
      /line 2: duplicate drm-driver/,
    );
  });

  it('keeps hostile names such as __proto__ as plain keys without touching Object.prototype', () => {
    const info = parseFdinfo(
      'drm-driver: x\ndrm-engine-__proto__: 5 ns\ndrm-total-constructor: 1\n__proto__: y\n',
    )!;
    expect(Object.getOwnPropertyDescriptor(info.engines, '__proto__')?.value).toEqual({
      busyNs: 5n,
    });
    expect(info.memory.constructor).toEqual({ total: 1 });
    expect(Object.hasOwn(info.other, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).busyNs).toBeUndefined();
  });

  it('never throws on binary garbage in tolerant mode', () => {
    let s = 12345;
    for (let round = 0; round < 200; round++) {
      let text = round % 2 ? 'drm-driver:\tx\n' : '';
      for (let i = 0; i < 300; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        text += String.fromCharCode(s % 7 === 0 ? 10 : s % 11 === 0 ? 58 : s >>> 24);
      }
      expect(() => parseFdinfo(text)).not.toThrow();
    }
  });

  it('rejects a non-string text and bad options with TypeError naming the argument', () => {
    expect(() => parseFdinfo(42 as unknown as string)).toThrow(/text must be a string, got 42/);
    expect(() => parseFdinfo(Buffer.from('x') as unknown as string)).toThrow(TypeError);
    expect(() => parseFdinfo('', 'strict' as never)).toThrow(/opts must be an object/);
    expect(() => parseFdinfo('', { strict: 1 as unknown as boolean })).toThrow(/opts.strict/);
  });
});
