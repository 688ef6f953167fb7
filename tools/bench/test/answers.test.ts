import { describe, expect, it } from 'vitest';
import { selectFactories } from '../src/contenders.js';
import { makeWorkload } from '../src/workload.js';

/*
 * The harness leaves a contender whose answers differ from ours out of the
 * ratios; this checks the adapters themselves, on a small seeded workload,
 * so that a broken adapter shows up here rather than as a missing peer.
 */
const n = 300;
const w = makeWorkload({ n, queries: 60, mixedOps: 200, seed: 7 });

/** Every live id overlapping each query, straight from the workload's bounds. */
function expected(live: Set<number>): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < w.qStart.length; q++) {
    const ids = [...live].filter(
      (id) => w.start[id]! <= w.qLast[q]! && w.qStart[q]! <= w.last[id]!,
    );
    out.push(ids.sort((a, b) => a - b));
  }
  return out;
}

function answers(ids: (qs: number, ql: number) => number[]): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < w.qStart.length; q++) {
    out.push(ids(w.qStart[q]!, w.qLast[q]!).sort((a, b) => a - b));
  }
  return out;
}

const contenders = selectFactories('').map((make) => [make().name, make] as const);
const removable = contenders.filter(([, make]) => make().remove !== undefined);

describe.each(contenders)('%s', (_, make) => {
  it('answers every query with exactly the overlapping ids', () => {
    const s = make();
    s.prepare?.(w);
    s.build(w, 0, n);
    const all = expected(new Set(Array.from({ length: n }, (_, id) => id)));
    expect(answers((qs, ql) => s.ids(qs, ql))).toEqual(all);
    expect(s.query(w, 0, w.qStart.length)).toBe(all.flat().length);
  });
});

describe.each(removable)('%s after removes', (_, make) => {
  it('forgets the removed half and still finds the rest', () => {
    const s = make();
    s.prepare?.(w);
    s.build(w, 0, n);
    s.remove!(w, 0, n / 2);
    const live = new Set(Array.from({ length: n }, (_, id) => id));
    for (let i = 0; i < n / 2; i++) live.delete(w.removeOrder[i]!);
    expect(answers((qs, ql) => s.ids(qs, ql))).toEqual(expected(live));
  });
});

it('checks the removes of every dynamic contender', () => {
  expect(removable.map(([name]) => name)).toEqual(
    contenders.filter(([, make]) => make().kind !== 'static').map(([name]) => name),
  );
});
