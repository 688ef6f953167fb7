import {
  MMU_NOTIFIER_RANGE_BLOCKABLE,
  MmuNotifierEvent,
  MmuNotifierSubscriptions,
  mmuNotifierRangeBlockable,
  mmuNotifierRangeInit,
} from '@hmmkit/mmu-notifier';
import { isKernelError } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';

describe('notifier events and ranges', () => {
  it('numbers the events as enum mmu_notifier_event does, as a runtime object', () => {
    expect([
      MmuNotifierEvent.UNMAP,
      MmuNotifierEvent.CLEAR,
      MmuNotifierEvent.PROTECTION_VMA,
      MmuNotifierEvent.PROTECTION_PAGE,
      MmuNotifierEvent.SOFT_DIRTY,
      MmuNotifierEvent.RELEASE,
      MmuNotifierEvent.MIGRATE,
      MmuNotifierEvent.EXCLUSIVE,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(MmuNotifierEvent[MmuNotifierEvent.EXCLUSIVE]).toBe('EXCLUSIVE');
    expect(MMU_NOTIFIER_RANGE_BLOCKABLE).toBe(1);
  });

  it('builds a range with its owner, and without one the owner is undefined', () => {
    const subs = new MmuNotifierSubscriptions();
    const owner = { device: 1 };
    const r = mmuNotifierRangeInit(MmuNotifierEvent.MIGRATE, 0, subs.mm, 0x1000, 0x3000, owner);
    expect(r).toEqual({
      mm: subs.mm,
      start: 0x1000,
      end: 0x3000,
      flags: 0,
      event: MmuNotifierEvent.MIGRATE,
      owner,
    });
    expect(mmuNotifierRangeInit(MmuNotifierEvent.UNMAP, 0, subs.mm, 0, 1).owner).toBeUndefined();
  });

  it('uses the subscriptions object itself as the mm of a standalone address space', () => {
    const subs = new MmuNotifierSubscriptions();
    expect(subs.mm).toBe(subs);
  });

  it('reports blockable only when the flag is set', () => {
    const subs = new MmuNotifierSubscriptions();
    expect(mmuNotifierRangeBlockable(mmuNotifierRangeInit(0, 0, subs, 0, 4096))).toBe(false);
    expect(
      mmuNotifierRangeBlockable(
        mmuNotifierRangeInit(0, MMU_NOTIFIER_RANGE_BLOCKABLE, subs, 0, 4096),
      ),
    ).toBe(true);
  });

  it.each([
    ['an unknown event', () => mmuNotifierRangeInit(8 as MmuNotifierEvent, 0, null, 0, 1), 'event'],
    [
      'a fractional event',
      () => mmuNotifierRangeInit(0.5 as MmuNotifierEvent, 0, null, 0, 1),
      'event',
    ],
    ['an unknown flag', () => mmuNotifierRangeInit(0, 2, null, 0, 1), 'flags'],
    ['an empty range', () => mmuNotifierRangeInit(0, 0, null, 5, 5), 'end'],
    ['a reversed range', () => mmuNotifierRangeInit(0, 0, null, 5, 4), 'end'],
    ['a negative start', () => mmuNotifierRangeInit(0, 0, null, -1, 4), 'start'],
    ['a NaN end', () => mmuNotifierRangeInit(0, 0, null, 0, Number.NaN), 'end'],
    ['an unsafe end', () => mmuNotifierRangeInit(0, 0, null, 0, 2 ** 53), 'end'],
  ])('rejects %s with EINVAL naming the argument', (_what, fn, arg) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL')).toBe(true);
    expect((err as Error).message).toContain(arg);
  });
});
