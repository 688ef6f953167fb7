import { MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { isKernelError, RuntimeViolation, schedulePoint, spawn } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { type Call, CountingMm, caught, PAGE, rangeOf, recordingOps } from './helpers.js';

describe('insertInterval', () => {
  it('starts the global sequence at 2 with no interval tree until the first insert', async () => {
    const subs = new MmuNotifierSubscriptions();
    expect(subs.invalidateSeq).toBe(2);
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(subs.hasItree).toBe(false);
    await subs.insertInterval(0, PAGE, recordingOps([]));
    expect(subs.hasItree).toBe(true);
  });

  it('stores the closed interval [start, start + length - 1]', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0x10000, 3 * PAGE, recordingOps([]));
    expect([sub.start, sub.last]).toEqual([0x10000, 0x10000 + 3 * PAGE - 1]);
    expect(sub.mm).toBe(subs.mm);
  });

  it('inserts immediately when idle, with an odd sequence that is not the global one', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    const sub = await subs.insertInterval(0, PAGE, recordingOps(log));
    const seq = await sub.readBegin();
    expect(seq).toBe(1);
    expect(seq % 2).toBe(1);
    expect(subs.invalidateSeq).toBe(2);
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    expect(log.map((c) => c.sub)).toEqual([sub]);
    await subs.invalidateRangeEnd(r);
  });

  it('defers an insert made while the tree is frozen, and does not call it for that invalidation', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    await subs.insertInterval(0, PAGE, recordingOps(log));
    const outer = rangeOf(subs, 0, 16 * PAGE);
    await subs.invalidateRangeStart(outer); // hits the first sub: frozen
    expect(subs.invalidateSeq).toBe(3);
    const late = await subs.insertInterval(4 * PAGE, PAGE, recordingOps(log));
    expect(late.invalidateSeq).toBe(3); // equal to the global seq: readers wait for the end
    const nested = rangeOf(subs, 4 * PAGE, 5 * PAGE);
    await subs.invalidateRangeStart(nested);
    await subs.invalidateRangeEnd(nested);
    expect(log.filter((c) => c.sub === late)).toEqual([]);
    await subs.invalidateRangeEnd(outer);
    expect(subs.invalidateSeq).toBe(4);
    const after = rangeOf(subs, 4 * PAGE, 5 * PAGE);
    await subs.invalidateRangeStart(after);
    await subs.invalidateRangeEnd(after);
    expect(log.filter((c) => c.sub === late).map((c) => c.curSeq)).toEqual([5]);
  });

  it('freezes a tree that is invalidating without a hit and inserts at once', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    await subs.insertInterval(100 * PAGE, PAGE, recordingOps(log));
    const miss = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(miss);
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([1, 2]); // partially excluded
    const sub = await subs.insertInterval(0, PAGE, recordingOps(log));
    expect(subs.invalidateSeq).toBe(3);
    expect(sub.invalidateSeq).toBe(3);
    const hit = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(hit); // already in the tree: called now
    expect(log.map((c) => [c.sub, c.curSeq])).toEqual([[sub, 3]]);
    await subs.invalidateRangeEnd(hit);
    await subs.invalidateRangeEnd(miss);
    expect(subs.invalidateSeq).toBe(4);
  });

  it('makes readBegin() on an insert made during an invalidation wait for its end', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.insertInterval(0, PAGE, recordingOps([]));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    const late = await subs.insertInterval(0, PAGE, recordingOps([]));
    const reader = spawn('reader', () => late.readBegin());
    await schedulePoint();
    expect(reader.done).toBe(false);
    await subs.invalidateRangeEnd(r);
    const seq = await reader.join();
    expect(seq).toBe(3);
    expect(late.readRetry(seq)).toBe(false);
  });

  it('takes an mm_count reference that remove() drops', async () => {
    const mm = new CountingMm();
    const subs = new MmuNotifierSubscriptions(mm);
    expect(subs.mm).toBe(mm);
    const sub = await subs.insertInterval(0, PAGE, recordingOps([]));
    expect(mm.count).toBe(2);
    await sub.remove();
    expect(mm.count).toBe(1);
  });

  it('fails with EINVAL on an address space without users', async () => {
    const mm = new CountingMm();
    mm.users = 0;
    const subs = new MmuNotifierSubscriptions(mm);
    expect(
      isKernelError(await caught(() => subs.insertInterval(0, PAGE, recordingOps([]))), 'EINVAL'),
    ).toBe(true);
    expect(mm.count).toBe(1);
  });

  it('fails with EOVERFLOW for a zero length or an interval past 2^53 - 1', async () => {
    const subs = new MmuNotifierSubscriptions();
    const max = Number.MAX_SAFE_INTEGER;
    expect(
      isKernelError(await caught(() => subs.insertInterval(0, 0, recordingOps([]))), 'EOVERFLOW'),
    ).toBe(true);
    expect(
      isKernelError(await caught(() => subs.insertInterval(max, 2, recordingOps([]))), 'EOVERFLOW'),
    ).toBe(true);
    const top = await subs.insertInterval(max, 1, recordingOps([]));
    expect(top.last).toBe(max);
  });

  it('insertIntervalLocked() requires the mmap lock held for write', async () => {
    const subs = new MmuNotifierSubscriptions();
    expect(await caught(() => subs.insertIntervalLocked(0, PAGE, recordingOps([])))).toBeInstanceOf(
      RuntimeViolation,
    );
    await subs.mmapLock.downWrite();
    const sub = subs.insertIntervalLocked(0, PAGE, recordingOps([]));
    subs.mmapLock.upWrite();
    expect(subs.hasItree).toBe(true);
    expect(sub.start).toBe(0);
  });
});
