import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  type HmmRange,
  hmmRangeFault,
} from '@hmmkit/hmm';
import { PAGE_SIZE, PROT_READ, PteKind } from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { entryAt, withMmapRead } from './device.js';
import { type Setup, setup } from './helpers.js';

/** A one-page hmm range over `addr` whose notifier logs the events it gets. */
async function rangeAt(s: Setup, defaultFlags: number): Promise<[HmmRange, MmuNotifierEvent[]]> {
  const events: MmuNotifierEvent[] = [];
  const notifier = await s.mm.notifiers.insertInterval(s.addr, PAGE_SIZE, {
    invalidate(sub, r, cur) {
      events.push(r.event);
      sub.setSeq(cur);
      return true;
    },
  });
  const range: HmmRange = {
    notifier,
    notifierSeq: await notifier.readBegin(),
    start: s.addr,
    end: s.addr + PAGE_SIZE,
    hmmPfns: new HmmPfns(1),
    defaultFlags,
    pfnFlagsMask: 0,
  };
  return [range, events];
}

async function exclusive(s: Setup): Promise<number> {
  const page = await withMmapRead(s.mm, () => makeDeviceExclusive(s.mm, s.addr, 'other'));
  page.unlock();
  page.put();
  return page.pfn;
}

describe('hmmRangeFault over a device-exclusive entry', () => {
  it('never reports the entry: without a fault request the page reads as not present', async () => {
    const s = await setup();
    await exclusive(s);
    const [range, events] = await rangeAt(s, 0);
    await withMmapRead(s.mm, () => hmmRangeFault(range));
    expect(range.hmmPfns.flags[0]! & HMM_PFN_VALID).toBe(0);
    expect(entryAt(s.mm, s.addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
    expect(events).toEqual([]);
  });

  it('with a fault request it restores the entry (MMU_NOTIFY_CLEAR) and reports the page', async () => {
    const s = await setup();
    const pfn = await exclusive(s);
    const [range, events] = await rangeAt(s, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    // The restore invalidates the range itself: the driver's first attempt gets EBUSY.
    await expect(withMmapRead(s.mm, () => hmmRangeFault(range))).rejects.toMatchObject({
      code: 'EBUSY',
    });
    expect(events).toEqual([MmuNotifierEvent.CLEAR]);
    expect(entryAt(s.mm, s.addr).kind).toBe(PteKind.PRESENT);
    range.notifierSeq = await range.notifier.readBegin();
    await withMmapRead(s.mm, () => hmmRangeFault(range));
    expect(range.hmmPfns.flags[0]! & (HMM_PFN_VALID | HMM_PFN_WRITE)).toBe(
      HMM_PFN_VALID | HMM_PFN_WRITE,
    );
    expect(range.hmmPfns.pfn[0]).toBe(pfn);
  });

  it('after mprotect(PROT_READ) a write fault request gets EPERM and the entry stays', async () => {
    const s = await setup();
    await exclusive(s);
    await s.mm.mprotect(s.addr, PAGE_SIZE, PROT_READ);
    const [range] = await rangeAt(s, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    await expect(withMmapRead(s.mm, () => hmmRangeFault(range))).rejects.toMatchObject({
      code: 'EPERM',
    });
    expect(entryAt(s.mm, s.addr).kind).toBe(PteKind.DEVICE_EXCLUSIVE);
  });
});
