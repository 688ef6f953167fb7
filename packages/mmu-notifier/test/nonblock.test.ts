import {
  type MmuIntervalNotifierOps,
  MmuNotifierSubscriptions,
  mmuNotifierRangeBlockable,
} from '@hmmkit/mmu-notifier';
import { inNonBlock, Mutex, RuntimeViolation } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { caught, PAGE, rangeOf, say } from './helpers.js';

const EAGAIN = -11;

/** Interval ops that refuse (return false) when not blockable, like mlx5 or amdgpu. */
function refusing(calls: string[], name: string): MmuIntervalNotifierOps {
  return {
    invalidate(sub, range, cur) {
      calls.push(name);
      if (!mmuNotifierRangeBlockable(range)) return false;
      sub.setSeq(cur);
      return true;
    },
  };
}

function accepting(calls: string[], name: string): MmuIntervalNotifierOps {
  return {
    invalidate(sub, _range, cur) {
      calls.push(`${name} nonblock=${inNonBlock()}`);
      sub.setSeq(cur);
      return true;
    },
  };
}

describe('non-blockable invalidation', () => {
  it('runs the callbacks in the non-blockable context and returns 0 when none refuses', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    await subs.insertInterval(0, PAGE, accepting(calls, 'a'));
    await subs.register({
      invalidateRangeStart: (_s, r) =>
        say(calls, `classic blockable=${mmuNotifierRangeBlockable(r)}`, 0),
    });
    const r = rangeOf(subs, 0, PAGE);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(0);
    expect(r.flags).toBe(0);
    expect(calls).toEqual(['a nonblock=true', 'classic blockable=false']);
    expect(inNonBlock()).toBe(false);
    await subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
  });

  it('ends the interval pass with -EAGAIN at the first refusal and skips the classic subscribers', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    const a = await subs.insertInterval(0, PAGE, accepting(calls, 'a'));
    await subs.insertInterval(PAGE, PAGE, refusing(calls, 'b'));
    await subs.insertInterval(2 * PAGE, PAGE, accepting(calls, 'c'));
    await subs.register({ invalidateRangeStart: () => say(calls, 'classic', 0) });
    const seq = await a.readBegin();
    const r = rangeOf(subs, 0, 3 * PAGE);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(EAGAIN);
    expect(calls).toEqual(['a nonblock=true', 'b']);
    // The pass unwound itself: not active, sequence even again, readers of `a` retry.
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([0, 4]);
    expect(a.readRetry(seq)).toBe(true);
  });

  it('calls end on every classic subscriber that has one when a classic start fails', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    await subs.register({
      invalidateRangeStart: () => say(calls, 'start a', 0),
      invalidateRangeEnd: () => void calls.push('end a'),
    });
    await subs.register({ invalidateRangeStart: () => say(calls, 'start b (fails)', EAGAIN) });
    await subs.register({
      invalidateRangeStart: () => say(calls, 'start c', 0),
      invalidateRangeEnd: () => void calls.push('end c'),
    });
    const r = rangeOf(subs, 0, PAGE);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(EAGAIN);
    expect(calls).toEqual(['start c', 'start b (fails)', 'start a', 'end c', 'end a']);
  });

  it('leaves the interval side counted when only a classic start fails, as v6.17 does', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.insertInterval(0, PAGE, accepting([], 'a'));
    await subs.register({ invalidateRangeStart: () => EAGAIN });
    expect(subs.invalidateRangeStartNonblock(rangeOf(subs, 0, PAGE))).toBe(EAGAIN);
    // __mmu_notifier_invalidate_range_start() returns the classic error without undoing the
    // successful interval pass, and the caller may not call end: the tree stays frozen.
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([1, 3]);
  });

  it('reports an end called after a failed start', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.insertInterval(0, PAGE, refusing([], 'a'));
    const r = rangeOf(subs, 0, PAGE);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(EAGAIN);
    const err = await caught(() => subs.invalidateRangeEnd(r));
    expect(err).toBeInstanceOf(RuntimeViolation);
    expect((err as RuntimeViolation).kind).toBe('assertion');
  });

  it('reports a callback that sleeps in a non-blockable range', async () => {
    const subs = new MmuNotifierSubscriptions();
    const lock = new Mutex('driver');
    await subs.insertInterval(0, PAGE, {
      async invalidate(sub, _r, cur) {
        await lock.lock();
        sub.setSeq(cur);
        lock.unlock();
        return true;
      },
    });
    const err = await caught(() => subs.invalidateRangeStartNonblock(rangeOf(subs, 0, PAGE)));
    expect((err as RuntimeViolation).kind).toBe('sleep-in-nonblock');
    expect(inNonBlock()).toBe(false);
  });

  it('reports a callback that returns a Promise in a non-blockable range', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.register({ invalidateRangeStart: async () => 0 });
    const err = await caught(() => subs.invalidateRangeStartNonblock(rangeOf(subs, 0, PAGE)));
    expect((err as RuntimeViolation).kind).toBe('sleep-in-nonblock');
  });

  it('warns when a blockable callback returns false or a classic start fails in a blockable range', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.insertInterval(0, PAGE, { invalidate: () => false });
    const err = await caught(() => subs.invalidateRangeStart(rangeOf(subs, 0, PAGE)));
    expect((err as RuntimeViolation).kind).toBe('assertion');
    const other = new MmuNotifierSubscriptions();
    await other.register({ invalidateRangeStart: () => EAGAIN });
    const err2 = await caught(() => other.invalidateRangeStart(rangeOf(other, 0, PAGE)));
    expect((err2 as RuntimeViolation).kind).toBe('assertion');
  });

  it('warns when a start that can fail also has an end', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.register({ invalidateRangeStart: () => EAGAIN, invalidateRangeEnd: () => {} });
    const err = await caught(() => subs.invalidateRangeStartNonblock(rangeOf(subs, 0, PAGE)));
    expect((err as RuntimeViolation).kind).toBe('assertion');
  });
});
