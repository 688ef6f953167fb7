import { MmuNotifierEvent } from '@hmmkit/mmu-notifier';
import { expect, it } from 'vitest';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '../src/index.js';

it('the README example prints what the README says', async () => {
  const out: unknown[] = [];
  const log = (v: unknown) => out.push(v);
  const memory = new PhysicalMemory({ pages: 1024 });
  const parent = Mm.create(memory);
  const addr = await parent.mmap(4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const seen: string[] = [];
  await parent.notifiers.insertInterval(addr, 4 * 4096, {
    invalidate(sub, range, seq) {
      sub.setSeq(seq);
      seen.push(MmuNotifierEvent[range.event]);
      return true;
    },
  });
  await parent.write(addr, new TextEncoder().encode('hello'));
  await parent.write(addr + 4096, new Uint8Array([1]));
  const child = await parent.fork();
  await child.write(addr, new TextEncoder().encode('HELLO'));
  log(new TextDecoder().decode(await parent.read(addr, 5)));
  await parent.write(addr, new Uint8Array([72]));
  await parent.write(addr + 4096, new Uint8Array([2]));
  await parent.munmap(addr, 4 * 4096);
  log([...seen]);
  await child.exit();
  await parent.exit();
  log(memory.freePages);
  expect(out).toEqual(['hello', ['PROTECTION_PAGE', 'CLEAR', 'UNMAP'], 1024]);
});
