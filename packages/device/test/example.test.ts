// The README example, run as a test so it cannot rot.
import { parseFdinfo } from '@hmmkit/fdinfo';
import {
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_WRITE,
  HmmPfns,
  hmmRangeFaultLoop,
} from '@hmmkit/hmm';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
  TASK_SIZE,
} from '@hmmkit/mm';
import { mmuNotifierRangeBlockable } from '@hmmkit/mmu-notifier';
import { Mutex } from '@hmmkit/runtime';
import { expect, it } from 'vitest';
import { DEVICE_PTE_READ, DEVICE_PTE_WRITE, Device } from '../src/index.js';

it('the README example runs: a mirror driver, a DMA, a copy job and its fdinfo', async () => {
  // --- README example start
  const memory = new PhysicalMemory({ pages: 256 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new TextEncoder().encode('hello, device'));

  const device = new Device(memory, { name: 'mygpu', engines: { gfx: 1, copy: 2 } });
  const ctx = device.open(mm); // drm_open(): a client with its own page table and TLB
  const lock = new Mutex('mygpu update'); // the driver's update lock

  // Invalidation: set_seq, clear the device PTEs, flush the TLB, all before returning.
  const notifier = await mm.notifiers.insertInterval(0, TASK_SIZE, {
    async invalidate(sub, range, cur) {
      if (mmuNotifierRangeBlockable(range)) await lock.lock();
      else if (!lock.trylock()) return false;
      sub.setSeq(cur);
      ctx.unmap(range.start, range.end);
      ctx.flushTlb(range.start, range.end);
      lock.unlock();
      return true;
    },
  });

  // Device page fault: hmm_range_fault() loop, then program the PTE under the lock.
  device.setFaultHandler(async (fault) => {
    const range = {
      notifier,
      notifierSeq: 0,
      start: fault.va,
      end: fault.va + PAGE_SIZE,
      hmmPfns: new HmmPfns(1),
      defaultFlags: HMM_PFN_REQ_FAULT | (fault.access === 'read' ? 0 : HMM_PFN_REQ_WRITE),
      pfnFlagsMask: 0,
    };
    await hmmRangeFaultLoop(range, {
      lock,
      program: (r) => {
        const writable = (r.hmmPfns.flags[0]! & HMM_PFN_WRITE) !== 0;
        ctx.map(fault.va, r.hmmPfns.pfn[0]!, DEVICE_PTE_READ | (writable ? DEVICE_PTE_WRITE : 0));
      },
    });
  });

  const bytes = await ctx.dmaRead(addr, 13); // faults, is replayed, reads
  const fence = ctx.createQueue('copy').submit({
    durationNs: 20_000,
    ops: [{ op: 'copy', src: addr, dst: addr + PAGE_SIZE, length: 13 }],
  });
  await fence.wait(); // the device clock runs to 20 us
  const text = device.showFdinfo(ctx);
  // --- README example end

  expect(new TextDecoder().decode(bytes)).toBe('hello, device');
  expect(new TextDecoder().decode(await mm.read(addr + PAGE_SIZE, 13))).toBe('hello, device');
  expect(text).toContain('drm-engine-copy:\t20000 ns\ndrm-engine-capacity-copy:\t2\n');
  expect(text).toContain('drm-resident-system:\t8 KiB\n');
  expect(parseFdinfo(text)?.clientId).toBe(ctx.clientId);
});
