import {
  DmirrorDevice,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_WRITE,
} from '@hmmkit/adapter-dmirror';
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import { expect, it } from 'vitest';

it('runs the README example: device read, migration, snapshot, CPU fault back', async () => {
  const log: string[] = [];
  const print = (...a: unknown[]) => log.push(a.map(String).join(' '));
  // ---- README example (keep in sync) ----
  const memory = new PhysicalMemory({ pages: 1024 });
  const mm = Mm.create(memory); // the process
  const [dev0] = DmirrorDevice.createAll(memory, 256); // hmm_dmirror0..3
  const fd = await dev0!.open(mm); // open("/dev/hmm_dmirror0")

  const npages = 4;
  const addr = await mm.mmap(npages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new TextEncoder().encode('hello, dmirror'));

  const r = await fd.read(addr, npages); // HMM_DMIRROR_READ
  print(r.cpages, r.faults, new TextDecoder().decode(r.data?.subarray(0, 14))); // 4 1 hello, dmirror

  await fd.migrateToDevice(addr, npages); // HMM_DMIRROR_MIGRATE_TO_DEV
  const snap = await fd.snapshot(addr, npages); // HMM_DMIRROR_SNAPSHOT
  print(snap[0] === (HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE)); // true

  const cpu = await mm.read(addr, 5); // CPU fault: migrate_to_ram brings page 0 back
  print(new TextDecoder().decode(cpu), dev0!.freePages); // hello 253
  await fd.close();
  await mm.exit();
  assertInvariants(memory);
  // ---- end of README example ----
  expect(log).toEqual(['4 1 hello, dmirror', 'true', 'hello 253']);
});
