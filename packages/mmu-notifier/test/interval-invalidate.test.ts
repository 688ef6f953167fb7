import { MmuNotifierEvent, MmuNotifierSubscriptions } from '@hmmkit/mmu-notifier';
import { Mutex, setTraceSink, type TraceEvent } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { type Call, PAGE, rangeOf, recordingOps } from './helpers.js';

describe('the invalidation pass', () => {
  it('calls every overlapping subscription once, in tree order, with the odd cur_seq', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    const c = await subs.insertInterval(8 * PAGE, PAGE, recordingOps(log));
    const a = await subs.insertInterval(0, 4 * PAGE, recordingOps(log));
    await subs.insertInterval(20 * PAGE, PAGE, recordingOps(log)); // outside
    const b = await subs.insertInterval(3 * PAGE, 2 * PAGE, recordingOps(log));
    const r = rangeOf(subs, 3 * PAGE, 9 * PAGE, MmuNotifierEvent.UNMAP);
    await subs.invalidateRangeStart(r);
    expect(log.map((x) => x.sub)).toEqual([a, b, c]);
    expect(
      log.every((x) => x.curSeq === 3 && x.blockable && x.event === MmuNotifierEvent.UNMAP),
    ).toBe(true);
    expect(subs.invalidateSeq).toBe(3);
    await subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
    expect(log).toHaveLength(3);
  });

  it('treats the range as half-open and the subscription as closed', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    await subs.insertInterval(PAGE, PAGE, recordingOps(log)); // [4096, 8191]
    for (const [s, e] of [
      [0, PAGE],
      [2 * PAGE, 3 * PAGE],
    ] as const) {
      const r = rangeOf(subs, s, e);
      await subs.invalidateRangeStart(r);
      await subs.invalidateRangeEnd(r);
    }
    expect(log).toHaveLength(0);
    const edge = rangeOf(subs, 2 * PAGE - 1, 2 * PAGE);
    await subs.invalidateRangeStart(edge);
    await subs.invalidateRangeEnd(edge);
    expect(log).toHaveLength(1);
  });

  it('leaves the sequence even, but counts the start, when the range hits nothing', async () => {
    const subs = new MmuNotifierSubscriptions();
    await subs.insertInterval(0, PAGE, recordingOps([]));
    const r = rangeOf(subs, 10 * PAGE, 11 * PAGE);
    await subs.invalidateRangeStart(r);
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([1, 2]);
    await subs.invalidateRangeEnd(r);
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([0, 2]);
  });

  it('keeps the tree frozen until the last of overlapping invalidations ends', async () => {
    const subs = new MmuNotifierSubscriptions();
    const sub = await subs.insertInterval(0, PAGE, recordingOps([]));
    const hit = rangeOf(subs, 0, PAGE);
    const miss = rangeOf(subs, 5 * PAGE, 6 * PAGE);
    await subs.invalidateRangeStart(miss);
    await subs.invalidateRangeStart(hit);
    await subs.invalidateRangeEnd(hit);
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([1, 3]);
    expect(sub.checkRetry(1)).toBe(true);
    await subs.invalidateRangeEnd(miss);
    expect([subs.activeInvalidateRanges, subs.invalidateSeq]).toEqual([0, 4]);
  });

  it('calls interval subscriptions before classic ones on start and ends them in the same order', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    await subs.register({
      invalidateRangeStart: () => {
        calls.push('classic:start');
        return 0;
      },
      invalidateRangeEnd: () => {
        calls.push(`classic:end seq=${subs.invalidateSeq}`);
      },
    });
    await subs.insertInterval(0, PAGE, recordingOps([], 'a', calls));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    // The interval end ran first: the classic end already sees the even seq.
    expect(calls).toEqual(['itree:a', 'classic:start', 'classic:end seq=4']);
  });

  it('applies deferred inserts and removes at the last end and only then', async () => {
    const subs = new MmuNotifierSubscriptions();
    const log: Call[] = [];
    const old = await subs.insertInterval(0, PAGE, recordingOps(log));
    const r = rangeOf(subs, 0, PAGE);
    await subs.invalidateRangeStart(r);
    const fresh = await subs.insertInterval(0, PAGE, recordingOps(log));
    const removing = old.remove(); // deferred: waits for the end
    await subs.invalidateRangeEnd(r);
    await removing;
    log.length = 0;
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(log.map((c) => c.sub)).toEqual([fresh]);
  });

  it('passes the owner and event through to the callbacks', async () => {
    const subs = new MmuNotifierSubscriptions();
    const seen: unknown[] = [];
    await subs.insertInterval(0, PAGE, {
      invalidate(sub, range, cur) {
        seen.push(range.owner, range.event);
        sub.setSeq(cur);
        return true;
      },
    });
    const owner = Symbol('device');
    const r = rangeOf(subs, 0, PAGE, MmuNotifierEvent.EXCLUSIVE, owner);
    await subs.invalidateRangeStart(r);
    await subs.invalidateRangeEnd(r);
    expect(seen).toEqual([owner, MmuNotifierEvent.EXCLUSIVE]);
  });

  it('waits for a sleeping callback before calling the next one', async () => {
    const subs = new MmuNotifierSubscriptions();
    const calls: string[] = [];
    const lock = new Mutex('driver');
    await subs.insertInterval(0, PAGE, {
      async invalidate(sub, _r, cur) {
        await lock.lock();
        calls.push('a');
        sub.setSeq(cur);
        lock.unlock();
        return true;
      },
    });
    await subs.insertInterval(PAGE, PAGE, recordingOps([], 'b', calls));
    const r = rangeOf(subs, 0, 2 * PAGE);
    await subs.invalidateRangeStart(r);
    expect(calls).toEqual(['a', 'itree:b']);
    await subs.invalidateRangeEnd(r);
  });

  it('emits a trace event for each start and end', async () => {
    const subs = new MmuNotifierSubscriptions();
    const events: TraceEvent[] = [];
    setTraceSink((e) => events.push(e));
    try {
      const r = rangeOf(subs, 0, PAGE);
      await subs.invalidateRangeStart(r);
      await subs.invalidateRangeEnd(r);
      expect(subs.invalidateRangeStartNonblock(r)).toBe(0);
      await subs.invalidateRangeEnd(r);
    } finally {
      setTraceSink(undefined);
    }
    const mine = events.filter((e) => e.kind === 'mmu_notifier');
    expect(mine.map((e) => e.name)).toEqual([
      'invalidate_range_start',
      'invalidate_range_end',
      'invalidate_range_start_nonblock',
      'invalidate_range_end',
    ]);
    expect(mine[0]?.args?.start).toBe(0);
  });
});
