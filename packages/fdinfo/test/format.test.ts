import {
  DRIVER_SAMPLES,
  type DrmFdinfo,
  formatFdinfo,
  formatSize,
  parseFdinfo,
} from '@hmmkit/fdinfo';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const full: DrmFdinfo = {
  driver: 'xe',
  pdev: '0000:00:02.0',
  clientId: '18446744073709551615',
  clientName: 'my compositor',
  engines: {
    rcs: { busyNs: 5n, capacity: 1, cycles: 7n, totalCycles: 9n, maxFreqHz: 1_300_000_000 },
    vcs: { capacity: 2 },
  },
  memory: {
    system: { total: 4 * 2 ** 20, shared: 0, active: 1, resident: 2048, purgeable: 3 * 2 ** 30 },
  },
  other: { pos: '0', 'drm-curfreq-rcs': '300 Hz', empty: '' },
};

describe('formatFdinfo', () => {
  it('prints every key with its unit in the kernel layout', () => {
    expect(formatFdinfo(full)).toBe(
      [
        'drm-driver:\txe',
        'drm-client-id:\t18446744073709551615',
        'drm-pdev:\t0000:00:02.0',
        'drm-client-name:\tmy compositor',
        'drm-engine-rcs:\t5 ns',
        'drm-engine-capacity-rcs:\t1',
        'drm-cycles-rcs:\t7',
        'drm-total-cycles-rcs:\t9',
        'drm-maxfreq-rcs:\t1300000000 Hz',
        'drm-engine-capacity-vcs:\t2',
        'drm-total-system:\t4 MiB',
        'drm-shared-system:\t0',
        'drm-active-system:\t1',
        'drm-resident-system:\t2 KiB',
        'drm-purgeable-system:\t3072 MiB',
        'pos:\t0',
        'drm-curfreq-rcs:\t300 Hz',
        'empty:\t',
        '',
      ].join('\n'),
    );
  });

  it('round-trips every key and unit through parseFdinfo', () => {
    expect(parseFdinfo(formatFdinfo(full), { strict: true })).toEqual(full);
  });

  it('round-trips every driver sample after one parse (format is a fixed point)', () => {
    for (const text of Object.values(DRIVER_SAMPLES)) {
      const info = parseFdinfo(text)!;
      expect(parseFdinfo(formatFdinfo(info), { strict: true })).toEqual(info);
    }
  });

  it('chooses units as drm_fdinfo_print_size does: divide by 1024 while exact, up to MiB', () => {
    expect([0, 1, 1024, 1536, 2 ** 20, 2 ** 30, 2 ** 20 + 1024].map(formatSize)).toEqual([
      '0',
      '1',
      '1 KiB',
      '1536',
      '1 MiB',
      '1024 MiB',
      '1025 KiB',
    ]);
  });

  it('formatSize refuses sizes that are not safe non-negative integers', () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, '5']) {
      expect(() => formatSize(bad as number)).toThrow(/bytes must be a safe integer/);
    }
  });

  it('refuses names and values that would not read back, naming the field', () => {
    const base = { driver: 'd', engines: {}, memory: {}, other: {} };
    expect(() => formatFdinfo({ ...base, engines: { 'capacity-x': { busyNs: 1n } } })).toThrow(
      /capacity key/,
    );
    expect(() => formatFdinfo({ ...base, memory: { 'cycles-x': { total: 1 } } })).toThrow(
      /total-cycles/,
    );
    expect(() => formatFdinfo({ ...base, engines: { 'a b': {} } })).toThrow(/engine name "a b"/);
    expect(() => formatFdinfo({ ...base, engines: { e: { capacity: 0 } } })).toThrow(
      /capacity must be/,
    );
    expect(() => formatFdinfo({ ...base, engines: { e: { busyNs: -1n } } })).toThrow(/outside u64/);
    expect(() => formatFdinfo({ ...base, engines: { e: { busyNs: 2n ** 64n } } })).toThrow(
      /outside u64/,
    );
    expect(() => formatFdinfo({ ...base, engines: { e: { busyNs: 1 as never } } })).toThrow(
      /must be a bigint/,
    );
    expect(() => formatFdinfo({ ...base, memory: { m: { total: 1.5 } } })).toThrow(/memory.total/);
    expect(() => formatFdinfo({ ...base, other: { 'drm-engine-x': '1' } })).toThrow(/standard key/);
    expect(() => formatFdinfo({ ...base, other: { k: 'a\nb' } })).toThrow(/line break/);
    expect(() => formatFdinfo({ ...base, clientId: '007' })).toThrow(/canonical decimal/);
    expect(() => formatFdinfo({ ...base, driver: ' i915' })).toThrow(/edge whitespace/);
  });

  it('rejects a non-object info and non-object records with TypeError', () => {
    expect(() => formatFdinfo(null as never)).toThrow(/info must be an object, got null/);
    expect(() => formatFdinfo({ driver: 'd', engines: 3, memory: {}, other: {} } as never)).toThrow(
      /info.engines must be an object/,
    );
    expect(() => formatFdinfo({ driver: 5, engines: {}, memory: {}, other: {} } as never)).toThrow(
      /driver must be a string/,
    );
  });
});

const name = fc
  .stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/)
  .filter((s) => !s.startsWith('capacity-') && !s.startsWith('cycles-'));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const size = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.integer({ min: 0, max: 2 ** 22 }).map((n) => n * 1024),
  fc.integer({ min: 0, max: 2 ** 30 }).map((n) => n * 2 ** 20),
);
const valstr = fc.stringMatching(/^[!-~](?:[ -~]{0,20}[!-~])?$/);
const engine = fc.record(
  {
    busyNs: u64,
    capacity: fc.integer({ min: 1, max: 64 }),
    cycles: u64,
    totalCycles: u64,
    maxFreqHz: fc.integer({ min: 0, max: 4_000_000_000 }),
  },
  { requiredKeys: [] },
);
const memory = fc.record(
  { total: size, shared: size, active: size, resident: size, purgeable: size },
  { requiredKeys: [] },
);
const otherKey = fc
  .stringMatching(/^[a-z][a-z0-9_-]{0,10}$/)
  .filter((k) => !['drm-', 'drm-engine-'].some((p) => k.startsWith(p)));
const info = fc.record(
  {
    driver: valstr,
    pdev: fc.stringMatching(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/),
    clientId: u64.map(String),
    clientName: valstr,
    engines: fc.dictionary(name, engine, { maxKeys: 5 }),
    memory: fc.dictionary(name, memory, { maxKeys: 5 }),
    other: fc.dictionary(otherKey, fc.oneof(valstr, fc.constant('')), { maxKeys: 4 }),
  },
  { requiredKeys: ['driver', 'engines', 'memory', 'other'] },
);

describe('format and parse (property)', () => {
  it('parseFdinfo(formatFdinfo(x)) equals x for random valid DrmFdinfo values', () => {
    fc.assert(
      fc.property(info, (x) => {
        expect(parseFdinfo(formatFdinfo(x as DrmFdinfo), { strict: true })).toEqual(x);
      }),
      { seed: 20261122, numRuns: 400 },
    );
  });
});
