import { IntervalTree } from '@hmmkit/interval-tree';
import { expect, it } from 'vitest';

it('runs the README example with the results it states', () => {
  const PAGE = 4096;
  const vmas = new IntervalTree<string>();
  const heap = vmas.insert(0x10000, 0x10000 + 16 * PAGE - 1, 'heap');
  vmas.insert(0x7f0000000000, 0x7f0000000000 + PAGE - 1, 'stack');
  const seen: string[] = [];
  for (let n = vmas.iterFirst(0x10000, 0x10fff); n; n = vmas.iterNext(n, 0x10000, 0x10fff)) {
    seen.push(`${n.value} ${n.start.toString(16)} ${n.last.toString(16)}`);
  }
  expect(seen).toEqual(['heap 10000 1ffff']);
  expect([...vmas.overlapping(0, Number.MAX_SAFE_INTEGER)].map((n) => n.value)).toEqual([
    'heap',
    'stack',
  ]);
  vmas.remove(heap);
  expect([heap.start, heap.last, heap.value, vmas.size]).toEqual([0x10000, 0x1ffff, 'heap', 1]);
});
