import { SeededRandom } from './prng.js';

export const PAGE_SIZE = 4096;
/** User addresses stay below 2^47 (TASK_SIZE on x86-64), i.e. 2^35 pages. */
const ADDRESS_PAGES = 2 ** 35;
const MAX_INTERVAL_PAGES = 512;
const MAX_QUERY_PAGES = 4;

export const MIX_QUERY = 0;
export const MIX_INSERT = 1;
export const MIX_REMOVE = 2;

/**
 * Everything one size of the benchmark feeds to every structure, generated
 * once from the seed. Intervals are closed [start, last], page aligned,
 * 1–512 pages long. Ids 0..n-1 are the initial set, ids n.. are inserted by
 * the mixed workload. Every query (1–4 pages) lies inside a live interval, so
 * each one has at least one hit.
 */
export interface Workload {
  readonly n: number;
  readonly start: Float64Array;
  readonly last: Float64Array;
  /** Initial ids in a shuffled order, for the remove phase. */
  readonly removeOrder: Int32Array;
  readonly qStart: Float64Array;
  readonly qLast: Float64Array;
  readonly mixKind: Uint8Array;
  /** The id inserted or removed by a mixed op; the query bounds for a query op. */
  readonly mixId: Int32Array;
  readonly mixQs: Float64Array;
  readonly mixQl: Float64Array;
}

export interface WorkloadOptions {
  n: number;
  queries: number;
  mixedOps: number;
  seed: number;
}

export function makeWorkload(o: WorkloadOptions): Workload {
  const rnd = new SeededRandom(o.seed ^ Math.imul(o.n, 0x9e3779b1));
  const total = o.n + o.mixedOps; // upper bound on ids the mixed phase inserts
  const start = new Float64Array(total);
  const last = new Float64Array(total);
  for (let id = 0; id < total; id++) {
    const pages = 1 + rnd.nextInt(MAX_INTERVAL_PAGES);
    const first = rnd.nextInt(ADDRESS_PAGES - pages);
    start[id] = first * PAGE_SIZE;
    last[id] = (first + pages) * PAGE_SIZE - 1;
  }
  const removeOrder = shuffledIds(o.n, rnd);
  const qStart = new Float64Array(o.queries);
  const qLast = new Float64Array(o.queries);
  for (let i = 0; i < o.queries; i++) {
    queryInside(rnd.nextInt(o.n), start, last, rnd, qStart, qLast, i);
  }
  return { n: o.n, start, last, removeOrder, qStart, qLast, ...makeMix(o, start, last, rnd) };
}

function shuffledIds(n: number, rnd: SeededRandom): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rnd.nextInt(i + 1);
    const t = ids[i]!;
    ids[i] = ids[j]!;
    ids[j] = t;
  }
  return ids;
}

/** A 1–4 page query starting on a page inside interval `id`. */
function queryInside(
  id: number,
  start: Float64Array,
  last: Float64Array,
  rnd: SeededRandom,
  qs: Float64Array,
  ql: Float64Array,
  at: number,
): void {
  const pages = (last[id]! + 1 - start[id]!) / PAGE_SIZE;
  const s = start[id]! + rnd.nextInt(pages) * PAGE_SIZE;
  qs[at] = s;
  ql[at] = s + (1 + rnd.nextInt(MAX_QUERY_PAGES)) * PAGE_SIZE - 1;
}

/** 50% queries, 25% inserts of new ids, 25% removes of a random live id. */
function makeMix(o: WorkloadOptions, start: Float64Array, last: Float64Array, rnd: SeededRandom) {
  const m = o.mixedOps;
  const mixKind = new Uint8Array(m);
  const mixId = new Int32Array(m);
  const mixQs = new Float64Array(m);
  const mixQl = new Float64Array(m);
  const live = new Int32Array(o.n + m);
  for (let i = 0; i < o.n; i++) live[i] = i;
  let liveCount = o.n;
  let nextId = o.n;
  for (let i = 0; i < m; i++) {
    const r = rnd.nextFloat();
    if (r < 0.5 || liveCount === 0) {
      mixKind[i] = MIX_QUERY;
      if (liveCount === 0) continue;
      queryInside(live[rnd.nextInt(liveCount)]!, start, last, rnd, mixQs, mixQl, i);
    } else if (r < 0.75) {
      mixKind[i] = MIX_INSERT;
      mixId[i] = nextId;
      live[liveCount++] = nextId++;
    } else {
      mixKind[i] = MIX_REMOVE;
      const k = rnd.nextInt(liveCount);
      mixId[i] = live[k]!;
      live[k] = live[--liveCount]!;
    }
  }
  return { mixKind, mixId, mixQs, mixQl };
}
