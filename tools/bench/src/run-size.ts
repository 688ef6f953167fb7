import { ChunkTimer, type Rate, retainedBytes, timeChunked } from './measure.js';
import type { Structure } from './structure.js';
import { makeWorkload, type Workload } from './workload.js';

export interface Options {
  queries: number;
  mixedOps: number;
  queryBudgetMs: number;
  mixedBudgetMs: number;
  sample: number;
  seed: number;
}

export interface Row {
  readonly name: string;
  readonly kind: Structure['kind'];
  insert?: Rate;
  query?: Rate;
  remove?: Rate;
  mixed?: Rate;
  bytesPerInterval?: number;
  /** Sample queries whose answer differs from @hmmkit/interval-tree's. */
  mismatches: number;
  /** Set when the mixed workload's hits differ from ours at the same op count. */
  mixedMismatch: boolean;
}

/**
 * Operations per timed chunk: small enough (well under a scheduler time
 * slice) that most chunks run undisturbed on a busy machine.
 */
const CHUNK = 100;

/** The reference answers (from the first structure, ours) that the others are checked against. */
interface Reference {
  sampleIds: number[][];
  /** Hits of the mixed workload after each chunk. */
  mixedHits: Map<number, number>;
}

export function runSize(n: number, factories: (() => Structure)[], o: Options): Row[] {
  const w = makeWorkload({ n, queries: o.queries, mixedOps: o.mixedOps, seed: o.seed });
  const ref: Reference = { sampleIds: [], mixedHits: new Map() };
  return factories.map((make, i) => runOne(make, w, o, ref, i === 0));
}

/**
 * Small sizes are built and torn down in several rounds, each on its own
 * structure, so that insert, remove and heap are measured over at least
 * this many intervals: ten 100-op chunks of one 1e3 tree are too few for a
 * stable median on a shared machine.
 */
const MIN_MEASURED_INTERVALS = 100_000;

function runOne(
  make: () => Structure,
  w: Workload,
  o: Options,
  ref: Reference,
  isReference: boolean,
): Row {
  const rounds = Math.ceil(MIN_MEASURED_INTERVALS / w.n);
  const trees = Array.from({ length: rounds }, () => {
    const t = make();
    t.prepare?.(w);
    return t;
  });
  const s = trees[0]!;
  const row: Row = { name: s.name, kind: s.kind, mismatches: 0, mixedMismatch: false };
  const before = retainedBytes();
  const insert = new ChunkTimer();
  // A static structure is built in one call: one chunk of n per round.
  const chunk = s.kind === 'static' ? w.n : CHUNK;
  for (const t of trees) insert.run(w.n, chunk, Infinity, (a, b) => t.build(w, a, b), noop);
  row.insert = insert.rate();
  row.bytesPerInterval = (retainedBytes() - before) / (w.n * rounds);
  row.mismatches = checkSample(s, w, o.sample, ref, isReference);
  row.query = timeChunked(o.queries, CHUNK, o.queryBudgetMs, (a, b) => s.query(w, a, b), noop);
  if (s.remove) {
    const remove = new ChunkTimer();
    for (const t of trees) remove.run(w.n, CHUNK, Infinity, (a, b) => t.remove!(w, a, b), noop);
    row.remove = remove.rate();
  }
  if (s.mixed) row.mixed = runMixed(make, w, o, ref, isReference, row);
  return row;
}

function runMixed(
  make: () => Structure,
  w: Workload,
  o: Options,
  ref: Reference,
  isReference: boolean,
  row: Row,
): Rate {
  const s = make();
  s.prepare?.(w);
  s.build(w, 0, w.n);
  const rate = timeChunked(
    o.mixedOps,
    CHUNK,
    // The reference runs to the end, so that every peer can be checked wherever it stops.
    isReference ? Infinity : o.mixedBudgetMs,
    (a, b) => s.mixed!(w, a, b),
    (done, hits) => {
      if (isReference) ref.mixedHits.set(done, hits);
      else if (ref.mixedHits.has(done) && ref.mixedHits.get(done) !== hits) {
        row.mixedMismatch = true;
      }
    },
  );
  return rate;
}

function checkSample(s: Structure, w: Workload, sample: number, ref: Reference, isRef: boolean) {
  let mismatches = 0;
  const count = Math.min(sample, w.qStart.length);
  for (let i = 0; i < count; i++) {
    const got = s.ids(w.qStart[i]!, w.qLast[i]!).sort((a, b) => a - b);
    if (isRef) ref.sampleIds[i] = got;
    else if (!sameIds(got, ref.sampleIds[i]!)) mismatches++;
  }
  return mismatches;
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function noop(): void {}

const faster = (a: Rate | undefined, b: Rate | undefined) =>
  a && b && b.opsPerSec > a.opsPerSec ? b : (a ?? b);

/** Merges two runs of the same size: the best rate of each cell, any wrong answer kept. */
export function bestOf(a: Row[], b: Row[]): Row[] {
  return a.map((x, i) => {
    const y = b[i]!;
    const bytes = [x.bytesPerInterval, y.bytesPerInterval].filter((v) => v !== undefined);
    const row: Row = {
      name: x.name,
      kind: x.kind,
      mismatches: Math.max(x.mismatches, y.mismatches),
      mixedMismatch: x.mixedMismatch || y.mixedMismatch,
    };
    if (bytes.length > 0) row.bytesPerInterval = Math.min(...bytes);
    for (const col of ['insert', 'query', 'remove', 'mixed'] as const) {
      const best = faster(x[col], y[col]);
      if (best) row[col] = best;
    }
    return row;
  });
}
