import { describe, expect, it } from 'vitest';
import { Prandom } from '../bench/prandom.js';
import { IntervalTree } from '../src/index.js';

/*
 * "Queries allocate nothing" (README), checked through the heap: the heap
 * only grows between two reads of heapUsed if something was allocated, and
 * 1 000 queries that allocated even one 16-byte object each would grow it by
 * 16 KiB. A chunk during which a scavenge ran shows a drop and is left out.
 * Unoptimized code boxes the float64 bounds it reads, so a warm-up lets the
 * optimizing compiler finish first (idle, it took 13 to 27 chunks); the
 * median leaves room for a late finish.
 */

const PAGE = 4096;
const QUERIES_PER_CHUNK = 1000;

function pageTree(count: number): IntervalTree<number> {
  const rnd = Prandom.seedState(11n);
  const tree = new IntervalTree<number>();
  for (let id = 0; id < count; id++) {
    const start = (rnd.u32() % (count * 8)) * PAGE;
    tree.insert(start, start + (1 + (rnd.u32() % 16)) * PAGE - 1, id);
  }
  return tree;
}

/** Kernel-style walks of small queries; returns the hits, so that nothing is optimized away. */
function queryChunk(tree: IntervalTree<number>, firstPage: number): number {
  let hits = 0;
  for (let q = 0; q < QUERIES_PER_CHUNK; q++) {
    const start = (firstPage + q * 7) * PAGE;
    const last = start + 2 * PAGE - 1;
    for (let n = tree.iterFirst(start, last); n; n = tree.iterNext(n, start, last)) hits++;
  }
  return hits;
}

/** Heap growth per chunk of queries, chunks with a collection left out. */
function heapGrowthPerChunk(tree: IntervalTree<number>, chunks: number): number[] {
  const growth: number[] = [];
  let hits = 0;
  for (let c = 0; c < chunks; c++) {
    const before = process.memoryUsage().heapUsed;
    hits += queryChunk(tree, (c % 100) * 1000);
    const delta = process.memoryUsage().heapUsed - before;
    if (delta >= 0) growth.push(delta);
  }
  expect(hits).toBeGreaterThan(chunks * QUERIES_PER_CHUNK);
  return growth;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('queries through iterFirst/iterNext', () => {
  it('allocate nothing once compiled', () => {
    const tree = pageTree(20_000);
    heapGrowthPerChunk(tree, 200);
    const growth = heapGrowthPerChunk(tree, 100);
    expect(growth.length).toBeGreaterThan(50);
    // Two memoryUsage() results per chunk are allocated inside the window.
    expect(median(growth)).toBeLessThan(2048);
  });
});
