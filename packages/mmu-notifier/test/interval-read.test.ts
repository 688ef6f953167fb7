import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { PAGE, rangeOf, recordingOps } from './helpers.js';

async function twoSubs() {
  const subs = new MmuNotifierSubscriptions();
  const a = await subs.insertInterval(0, PAGE, recordingOps([]));
  const b = await subs.insertInterval(10 * PAGE, PAGE, recordingOps([]));
  return { subs, a, b };
}

describe('readBegin / readRetry / checkRetry / setSeq', () => {
  it('does not sleep and reports no collision when nothing was invalidated', async () => {
    const { a } = await twoSubs();
    const seq = await a.readBegin();
    expect(a.readRetry(seq)).toBe(false);
    expect(a.checkRetry(seq)).toBe(false);
  });

  it('reports a collision once an invalidation of the subscription has started', async () => {
    const { subs, a } = await twoSubs();
    const seq = await a.readBegin();
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    expect(a.checkRetry(seq)).toBe(true);
    await subs.invalidateRangeEnd(r);
    expect(a.readRetry(seq)).toBe(true);
    const again = await a.readBegin();
    expect(a.readRetry(again)).toBe(false);
  });

  it('does not report a collision for an invalidation of another subscription', async () => {
    const { subs, a } = await twoSubs();
    const seq = await a.readBegin();
    const r = rangeOf(subs, 10 * PAGE, 11 * PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(a.readRetry(seq)).toBe(false);
  });

  it('sleeps exactly while its own subscription is under invalidation and returns the value read first', async () => {
    const { subs, a, b } = await twoSubs();
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    const other = spawn('other', () => b.readBegin());
    const mine = spawn('mine', () => a.readBegin());
    await schedulePoint();
    expect(other.done).toBe(true); // b's seq is not the global one: no sleep
    expect(mine.done).toBe(false);
    await subs.invalidateRangeEnd(r);
    const seq = await mine.join();
    expect(seq).toBe(3); // read before sleeping
    expect(subs.invalidateSeq).toBe(4);
    expect(a.readRetry(seq)).toBe(false); // no new invalidation since
  });

  it('keeps sleeping until the last of several overlapping invalidations ends', async () => {
    const { subs, a } = await twoSubs();
    const r1 = rangeOf(subs, 0, PAGE);
    const r2 = rangeOf(subs, 20 * PAGE, 21 * PAGE);
    await subs.invalidateRangeStart(r1);
    await subs.invalidateRangeStart(r2);
    const reader = spawn('reader', () => a.readBegin());
    await subs.invalidateRangeEnd(r1);
    await schedulePoint();
    expect(reader.done).toBe(false);
    await subs.invalidateRangeEnd(r2);
    await reader.join();
    expect(reader.done).toBe(true);
  });

  it('setSeq() accepts only the odd cur_seq values the pass hands out', async () => {
    const { a } = await twoSubs();
    expect(() => a.setSeq(4)).toThrow(/odd/);
    a.setSeq(7);
    expect(a.checkRetry(7)).toBe(false);
    expect(a.checkRetry(1)).toBe(true);
  });
});
