import { MmuNotifier, type MmuNotifierRange, MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { type Errno, isKernelError } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { caught, PAGE, rangeOf, recordingOps } from './helpers.js';

type Case = [string, Errno, (s: MmuNotifierSubscriptions) => unknown];
const bad = <T>(v: unknown) => v as T;

const ops = recordingOps([]);
const cases: Case[] = [
  ['constructor with a non-mm', 'EINVAL', () => new MmuNotifierSubscriptions(bad(42))],
  ['insertInterval with a negative start', 'EINVAL', (s) => s.insertInterval(-1, PAGE, ops)],
  ['insertInterval with a fractional start', 'EINVAL', (s) => s.insertInterval(0.5, PAGE, ops)],
  ['insertInterval with a NaN length', 'EINVAL', (s) => s.insertInterval(0, Number.NaN, ops)],
  ['insertInterval with a negative length', 'EINVAL', (s) => s.insertInterval(0, -PAGE, ops)],
  ['insertInterval with a zero length', 'EOVERFLOW', (s) => s.insertInterval(0, 0, ops)],
  ['insertInterval past 2^53 - 1', 'EOVERFLOW', (s) => s.insertInterval(2 ** 52, 2 ** 52 + 1, ops)],
  ['insertInterval without ops.invalidate', 'EINVAL', (s) => s.insertInterval(0, PAGE, bad({}))],
  [
    'insertIntervalLocked with null ops',
    'EINVAL',
    (s) => s.insertIntervalLocked(0, PAGE, bad(null)),
  ],
  ['register with a non-object', 'EINVAL', (s) => s.register(bad('ops'))],
  ['register with a non-function op', 'EINVAL', (s) => s.register(bad({ release: 1 }))],
  ['registerLocked with a non-object', 'EINVAL', (s) => s.registerLocked(bad(undefined))],
  ['get without allocNotifier', 'EINVAL', (s) => s.get({ freeNotifier: () => {} })],
  [
    'get with a bad allocNotifier result',
    'EINVAL',
    (s) => s.get({ allocNotifier: () => bad({}), freeNotifier: () => {} }),
  ],
  ['getLocked with a non-object', 'EINVAL', (s) => s.getLocked(bad(7))],
  ['invalidateRangeStart with a non-range', 'EINVAL', (s) => s.invalidateRangeStart(bad(null))],
  [
    'invalidateRangeStart with another mm',
    'EINVAL',
    (s) => s.invalidateRangeStart(rangeOf(new MmuNotifierSubscriptions(), 0, PAGE)),
  ],
  [
    'invalidateRangeStart with an empty range',
    'EINVAL',
    (s) => s.invalidateRangeStart(bad<MmuNotifierRange>({ ...rangeOf(s, 0, PAGE), end: 0 })),
  ],
  [
    'invalidateRangeStartNonblock with a bad event',
    'EINVAL',
    (s) =>
      s.invalidateRangeStartNonblock(bad<MmuNotifierRange>({ ...rangeOf(s, 0, PAGE), event: 9 })),
  ],
  ['invalidateRangeEnd with a non-range', 'EINVAL', (s) => s.invalidateRangeEnd(bad('r'))],
  ['clearFlushYoung with end below start', 'EINVAL', (s) => s.clearFlushYoung(PAGE, 0)],
  ['clearYoung with a NaN start', 'EINVAL', (s) => s.clearYoung(Number.NaN, PAGE)],
  ['testYoung with a negative address', 'EINVAL', (s) => s.testYoung(-4096)],
  [
    'archInvalidateSecondaryTlbs with an unsafe end',
    'EINVAL',
    (s) => s.archInvalidateSecondaryTlbs(0, 2 ** 60),
  ],
];

describe('bad input gets the kernel errno and names the argument', () => {
  it.each(cases)('%s -> %s', async (what, code, fn) => {
    const subs = new MmuNotifierSubscriptions();
    const locked = what.includes('Locked'); // the *Locked variants run under the mmap write lock
    if (locked) await subs.mmapLock.downWrite();
    let err: unknown;
    try {
      err = await caught(() => fn(subs));
    } finally {
      if (locked) subs.mmapLock.upWrite();
    }
    expect(isKernelError(err, code), String(err)).toBe(true);
  });

  it('readRetry, checkRetry and setSeq reject a non-sequence with EINVAL', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0, PAGE, ops);
    for (const fn of [
      () => sub.readRetry(bad('1')),
      () => sub.checkRetry(-1),
      () => sub.setSeq(1.5),
    ]) {
      expect(isKernelError(await caught(fn), 'EINVAL')).toBe(true);
    }
  });

  it('unregister and put of a notifier that was never registered fail with EINVAL', async () => {
    const n = new MmuNotifier({});
    expect(isKernelError(await caught(() => n.unregister()), 'EINVAL')).toBe(true);
    expect(isKernelError(await caught(() => n.put()), 'EINVAL')).toBe(true);
  });

  it('put after the last reference fails with EINVAL', async () => {
    const subs = new MmuNotifierSubscriptions();
    const n = await subs.register({ freeNotifier: () => {} });
    n.put();
    expect(isKernelError(await caught(() => n.put()), 'EINVAL')).toBe(true);
  });
});
