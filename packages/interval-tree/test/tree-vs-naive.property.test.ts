import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../src/check-invariants.js';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { type NaiveInterval, NaiveIntervalList } from './naive-interval-list.js';

type Op =
  | { kind: 'insert'; start: number; len: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'query'; start: number; len: number }
  | { kind: 'next'; pick: number; start: number; len: number };

/** Small coordinates so that duplicates, equal starts and touching ends are common. */
const coord = fc.integer({ min: 0, max: 64 });
const len = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 24 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), start: coord, len }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('query' as const), start: coord, len }) },
  {
    weight: 2,
    // Wide ranges, so that most nodes after the start overlap.
    arbitrary: fc.record({
      kind: fc.constant('next' as const),
      pick: fc.nat(),
      start: coord,
      len: fc.integer({ min: 0, max: 32 }),
    }),
  },
);

interface Pair {
  node: IntervalNode<number>;
  model: NaiveInterval<number>;
}

function ids(nodes: Iterable<{ value: number }>): number[] {
  return Array.from(nodes, (n) => n.value);
}

function walkIter(tree: IntervalTree<number>, start: number, last: number): number[] {
  const out: number[] = [];
  for (let n = tree.iterFirst(start, last); n; n = tree.iterNext(n, start, last)) out.push(n.value);
  return out;
}

/**
 * iterNext from `from` over [start, last] must give the nodes after it in
 * tree order that overlap, whatever walk came before: the kernel allows it
 * from any node.
 */
function checkNextFrom(
  tree: IntervalTree<number>,
  naive: NaiveIntervalList<number>,
  from: Pair,
  start: number,
  last: number,
): void {
  const order = naive.all();
  const after = order.slice(order.indexOf(from.model) + 1);
  const expected = ids(after.filter((m) => m.start <= last && start <= m.last));
  const got: number[] = [];
  for (let n = tree.iterNext(from.node, start, last); n; n = tree.iterNext(n, start, last)) {
    got.push(n.value);
  }
  expect(got).toEqual(expected);
}

/** Replays `ops` on the tree and the naive list, with every coordinate shifted by `base`. */
function run(ops: Op[], base = 0): void {
  const tree = new IntervalTree<number>();
  const naive = new NaiveIntervalList<number>();
  const live: Pair[] = [];
  let nextId = 0;
  // The first hit of the last query, found last: 'next' ops start from it
  // half the time, so that they follow the search that found it (and any
  // insert or remove since).
  let lastHit: number | undefined;
  for (const o of ops) {
    if (o.kind === 'insert') {
      const id = nextId++;
      const start = base + o.start;
      live.push({
        node: tree.insert(start, start + o.len, id),
        model: naive.insert(start, start + o.len, id),
      });
    } else if (o.kind === 'remove' && live.length > 0) {
      const [pair] = live.splice(o.pick % live.length, 1);
      tree.remove(pair!.node);
      naive.remove(pair!.model);
    } else if (o.kind === 'query') {
      const start = base + o.start;
      const expected = ids(naive.overlapping(start, start + o.len));
      expect(walkIter(tree, start, start + o.len)).toEqual(expected);
      expect(ids(tree.overlapping(start, start + o.len))).toEqual(expected);
      lastHit = tree.iterFirst(start, start + o.len)?.value;
    } else if (o.kind === 'next' && live.length > 0) {
      const hit = live.find((p) => p.node.value === lastHit);
      const from = hit && o.pick % 2 === 0 ? hit : live[o.pick % live.length]!;
      checkNextFrom(tree, naive, from, base + o.start, base + o.start + o.len);
    }
    checkInvariants(tree);
    expect(tree.size).toBe(naive.size);
  }
  expect(ids(tree)).toEqual(ids(naive.all()));
}

/**
 * Builds a tree from `ops` (queries ignored), then walks two ranges with
 * iterFirst/iterNext one step of each in turn, so that each walk's next step
 * follows the other's; both must match the naive list.
 */
function interleaved(ops: Op[], a: [number, number], b: [number, number]): void {
  const tree = new IntervalTree<number>();
  const naive = new NaiveIntervalList<number>();
  const live: Pair[] = [];
  ops.forEach((o, id) => {
    if (o.kind === 'insert') {
      const node = tree.insert(o.start, o.start + o.len, id);
      live.push({ node, model: naive.insert(o.start, o.start + o.len, id) });
    } else if (o.kind === 'remove' && live.length > 0) {
      const [pair] = live.splice(o.pick % live.length, 1);
      tree.remove(pair!.node);
      naive.remove(pair!.model);
    }
  });
  const ranges = [a, b].map(([start, len]) => [start, start + len] as const);
  const got: number[][] = [[], []];
  const at = ranges.map(([s, l]) => tree.iterFirst(s, l));
  while (at[0] || at[1]) {
    for (const k of [0, 1]) {
      const n = at[k];
      if (!n) continue;
      got[k]!.push(n.value);
      at[k] = tree.iterNext(n, ranges[k]![0], ranges[k]![1]);
    }
  }
  for (const [k, [s, l]] of ranges.entries()) {
    expect(got[k]).toEqual(ids(naive.overlapping(s, l)));
  }
}

// Generous per-test timeout: the full invariant check after every step is
// O(n) and the suite may share the CPU with other work.
describe('IntervalTree against the naive list', { timeout: 30_000 }, () => {
  it('agrees on every query and keeps its invariants over random insert/remove/query sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => run(ops)),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  it('agrees just below Number.MAX_SAFE_INTEGER, where every bound is still exact', () => {
    const base = Number.MAX_SAFE_INTEGER - 100;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => run(ops, base)),
      { seed: 0xb16, numRuns: 100 },
    );
  });

  it('agrees when two iterFirst/iterNext walks over different ranges take turns', () => {
    const range = fc.tuple(coord, len);
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), range, range, interleaved), {
      seed: 0x1ea5,
      numRuns: 300,
    });
  });

  it('agrees on long sequences of mostly inserts with many equal starts', () => {
    const dense = fc.array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            kind: fc.constant('insert' as const),
            start: fc.integer({ min: 0, max: 8 }),
            len,
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
        },
        {
          weight: 2,
          arbitrary: fc.record({ kind: fc.constant('query' as const), start: coord, len }),
        },
      ),
      { minLength: 100, maxLength: 200 },
    );
    fc.assert(
      fc.property(dense, (ops) => run(ops)),
      { seed: 0xd5e, numRuns: 30 },
    );
  });
});
