/**
 * A device mirrors one anonymous page while the kernel migrates it (migrate_pages:
 * migration entry under an MMU_NOTIFY_CLEAR range, copy, new PTE). Afterwards the
 * device's translation, if any, must be the CPU's current one.
 */
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  migratePage,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import { spawn } from '@hmmkit/runtime';
import { MirrorDriver, type MirrorFaultPath } from './mirror-driver.js';
import type { Scenario } from './scenario.js';

async function mirrorVsMigration(path: MirrorFaultPath): Promise<void> {
  const memory = new PhysicalMemory({ pages: 32 });
  const mm = Mm.create(memory);
  const addr = await mm.mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, new TextEncoder().encode('hello'));
  const mirror = await MirrorDriver.attach(mm, addr, PAGE_SIZE, path);
  const device = spawn('device', () => mirror.fault(addr));
  const migrate = spawn('migrate', () => migratePage(memory, mirror.cpuPfn(addr)!));
  await device.join();
  await migrate.join();
  mirror.checkCoherent();
  await mirror.detach();
  await mm.exit();
  assertInvariants(memory);
}

export const mirrorVsMigrationScenario: Scenario = {
  name: 'mirror-vs-migration',
  summary: 'a mirror using read_begin/read_retry faults a page while the kernel migrates it',
  expect: 'pass',
  run: () => mirrorVsMigration('sequence'),
};

export const validFlagVsMigrationScenario: Scenario = {
  name: 'valid-flag-vs-migration',
  summary: 'the pre-2019 valid-flag mirror faults a page while the kernel migrates it (broken)',
  expect: 'fail',
  run: () => mirrorVsMigration('valid-flag'),
};
