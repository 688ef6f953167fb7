import { makeDeviceExclusive } from '@hmmkit/device-exclusive';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PageTableWalker,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
  PteKind,
} from '@hmmkit/mm';
import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { Mutex } from '@hmmkit/runtime';
import { expect, it } from 'vitest';

it('runs the README example: a device atomic increment, then the CPU reads it back', async () => {
  const log: string[] = [];
  const print = (...a: unknown[]) => log.push(a.map(String).join(' '));
  // ---- README example (keep in sync) ----
  const memory = new PhysicalMemory({ pages: 64 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new Uint8Array([41]));

  // The device: an atomic mapping guarded by its lock, dropped on every invalidation
  // except the MMU_NOTIFY_EXCLUSIVE it caused itself.
  const device = { lock: new Mutex('device'), atomicPfn: -1 };
  const notifier = await mm.notifiers.insertInterval(addr, 4096, {
    async invalidate(sub, range, seq) {
      if (range.event === MmuNotifierEvent.EXCLUSIVE && range.owner === device) return true;
      await device.lock.lock();
      sub.setSeq(seq);
      device.atomicPfn = -1;
      device.lock.unlock();
      return true;
    },
  });

  // Device fault for an atomic access: take the page exclusively, then map it if no
  // invalidation ran since (sequence check) or before (the entry is still ours).
  const w = new PageTableWalker(mm);
  for (;;) {
    await mm.mmapLock.downRead();
    const page = await makeDeviceExclusive(mm, addr, device);
    mm.mmapLock.upRead();
    const seq = await notifier.readBegin();
    await device.lock.lock();
    w.reset(addr, addr + 4096);
    w.next();
    const ours = w.kind === PteKind.DEVICE_EXCLUSIVE && w.pfn === page.pfn;
    const ok = ours && !notifier.readRetry(seq);
    if (ok) device.atomicPfn = page.pfn;
    device.lock.unlock();
    page.unlock(); // from here a CPU access may revoke the mapping
    page.put();
    if (ok) break;
  }

  // The device's atomic increment, straight to the page.
  await device.lock.lock();
  const b = new Uint8Array(1);
  memory.readPage(device.atomicPfn, 0, b, 0, 1);
  b[0] = b[0]! + 1;
  memory.writePage(device.atomicPfn, 0, b, 0, 1);
  device.lock.unlock();

  // The CPU read faults on the device-exclusive entry, which revokes the device mapping.
  print((await mm.read(addr, 1))[0]); // 42
  print(device.atomicPfn); // -1
  await mm.exit();
  // ---- end of README example ----
  expect(log).toEqual(['42', '-1']);
  expect(memory.freePages).toBe(64);
});
