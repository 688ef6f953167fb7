import type { Workload } from './workload.js';

/**
 * One contender, wrapped so that each phase's loop runs inside the adapter
 * (monomorphic call sites, no harness dispatch per operation).
 */
export interface Structure {
  readonly name: string;
  /** 'dynamic' peers compete on every column; 'static' builds once; 'baseline' is the naive scan. */
  readonly kind: 'dynamic' | 'static' | 'baseline';
  /** Untimed preparation of the caller's own data (e.g. string ids). */
  prepare?(w: Workload): void;
  /** Inserts ids 0..n-1 (a static structure builds from them). */
  build(w: Workload): void;
  /** Runs queries [from, to) of the query set; returns the total number of hits. */
  query(w: Workload, from: number, to: number): number;
  /** The ids overlapping one query, for cross-checking answers. */
  ids(qs: number, ql: number): number[];
  /** Removes every initial id in `w.removeOrder` (dynamic structures only). */
  removeAll?(w: Workload): void;
  /** Runs mixed ops [from, to); returns the hits of its queries. */
  mixed?(w: Workload, from: number, to: number): number;
}
