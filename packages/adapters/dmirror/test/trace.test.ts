import { setTraceSink, type TraceEvent } from '@hmmkit/runtime';
import { afterEach, expect, it } from 'vitest';
import { ANON, ints, PAGE_SIZE, RW, system } from './helpers.js';

afterEach(() => setTraceSink(undefined));

it('ioctls and invalidations are traced under the dmirror kind', async () => {
  const { mm, fd, devices } = await system();
  const events: TraceEvent[] = [];
  setTraceSink((e) => {
    if (e.kind === 'dmirror') events.push(e);
  });
  const addr = await mm.mmap(PAGE_SIZE, RW, ANON);
  await mm.write(addr, ints(1));
  await fd.read(addr, 1);
  await mm.munmap(addr, PAGE_SIZE);
  expect(events.map((e) => e.name)).toEqual(['read', 'invalidate']);
  expect(events[0]?.args).toEqual({ device: devices[0]!.minor, addr, npages: 1 });
  expect(events[1]?.args).toMatchObject({ start: addr, end: addr + 2 * PAGE_SIZE });
});
