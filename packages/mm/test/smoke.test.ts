import { describe, expect, it } from 'vitest';
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '../src/index.js';

describe('smoke', () => {
  it('maps, writes, reads, forks and exits with every page returned', async () => {
    const memory = new PhysicalMemory({ pages: 64 });
    const mm = Mm.create(memory);
    const a = await mm.mmap(16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    await mm.write(a + 10, new Uint8Array([1, 2, 3]));
    expect([...(await mm.read(a + 9, 5))]).toEqual([0, 1, 2, 3, 0]);
    const child = await mm.fork();
    await child.write(a + 10, new Uint8Array([9]));
    expect([...(await mm.read(a + 10, 1))]).toEqual([1]);
    expect([...(await child.read(a + 10, 1))]).toEqual([9]);
    assertInvariants(memory);
    await child.exit();
    await mm.exit();
    assertInvariants(memory);
    expect(memory.freePages).toBe(64);
  });
});
